"""The API's domain logic: validation, the pod use cases and the dev identity. No gRPC here."""
