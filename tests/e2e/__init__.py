"""End-to-end tests: the whole stack (devstack) per database, driven through Envoy with REST, gRPC
and the real tapipy client."""
