"""Contract tests: the same cases run against the fakes and the real adapters (Docker runtime and
volume stores, the spawner-served observer and volume store), so the fakes stay honest."""
