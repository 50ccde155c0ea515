"""Unit tests of the spawner: reconcile, container specs, exec limits and its servicers."""
