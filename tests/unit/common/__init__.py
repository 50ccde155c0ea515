"""Unit tests of services/common: settings and their generated documentation, shared helpers."""
