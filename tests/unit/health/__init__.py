"""Unit tests of health: observation, the watcher, the spawner-backed observer."""
