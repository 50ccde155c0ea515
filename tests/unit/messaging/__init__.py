"""Unit tests of messaging: messages, names, the dispatcher."""
