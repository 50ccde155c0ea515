"""The health process: watches the runtime (events plus periodic resync), writes observed
status, container details and logs to the database, heals drift by re-publishing reconcile
commands, and publishes pod events. Layers: server.py (gRPC + wiring) -> watcher.py,
observe.py, probes.py (domain) -> ports.py (what the watcher needs from the database) <-
services.common adapters."""
