"""The API's domain logic: validation, the pod, template, volume and quota use cases, access
control (access.py), the seams it needs (ports.py: Protocols the repositories and the command
bus satisfy) and the dev identity. No gRPC, no database or messaging library here."""
