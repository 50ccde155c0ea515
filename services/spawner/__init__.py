"""The spawner process: consumes reconcile commands from NATS JetStream and drives a Runtime
toward each pod's desired state. Layers: server.py (gRPC + NATS wiring) -> reconcile.py and
container_spec.py (domain) -> ports.py (what reconcile needs from the database) <- services.common
adapters (repositories, runtime, bus)."""
