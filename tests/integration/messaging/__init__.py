"""The NATS JetStream adapter against a real nats-server."""
