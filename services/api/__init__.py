"""The API process: PodsService, TemplatesService, TemplateTagsService, VolumesService and
SnapshotsService (desired state, authz, validation) and the dev IdentityService.

Layers: transport/ (gRPC servicers, error mapping) -> domain/ (validation, pods use cases,
identity) -> adapters in services.common (database store, NATS bus, secret box) and
tokens.py (the JWT library).
"""
