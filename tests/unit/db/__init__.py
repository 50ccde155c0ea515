"""Unit tests of the database layer that need no server (codec, error translation)."""
