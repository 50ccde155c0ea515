"""The health process: watches the runtime through the spawner's SpawnerService (events plus
periodic resync), writes observed status, container details and logs to the database, heals
drift by re-publishing reconcile commands, and publishes pod events. Layers: server.py (gRPC +
wiring) -> watcher.py, observe.py, probes.py (domain) -> ports.py (RuntimeObserver, which
remote_runtime.py implements over SpawnerService; HealthStore, which the services.common
repositories implement)."""
