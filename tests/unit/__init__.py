"""Unit tests of our own logic, with fakes for the seams; no network, no engine."""
