"""What several processes share, and nothing else: settings (`settings/`), the database engine
and its repositories (`db/`), messaging (`messaging/`: pure messages and ports, the NATS
adapter apart), the seams' types, names, wire mappings and fakes (`runtime/`, `storage/`), the
pure records and errors domain code uses (`pods_model`, `volumes_model`, `quotas_model`,
`records`, `templates`, `outcomes`, `restarts`), process plumbing (`grpc_server`,
`dependency_health`, `nats_server`, `secretbox`, `failpoints`), what operators see of every
process (`observability` starts it: `metrics`, the Prometheus adapter; `log_setup`, the one
logging setup with its context; `tracing`, OpenTelemetry; `grpc_observability` and
`command_context`, what runs around each gRPC call and each command) and the generated
protobuf code.
Platform adapters are not here: they belong to the spawner (services/spawner/platforms)."""
