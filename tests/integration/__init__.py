"""Integration tests of one adapter against the real component it talks to."""
