"""Unit tests of the storage seam and the spawner's volume-store machinery (fakes, helpers, pool)."""
