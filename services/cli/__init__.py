"""The `pods` command: a terminal client of the public REST API (typer + rich), installed by the
project as `pods` (`[project.scripts]`). REST only, so it works against this service and a real
Tapis deployment alike; it imports no server-side package (an import-linter contract holds it).

Layers (checked by import-linter): `app` → the typer commands (`pod_commands`,
`volume_commands`) → `context` (the client from the saved login, output, exit codes) → `watch`
(live pod states and log output, over Server-Sent Events or by polling) and `connect` (the
ready-to-paste connect lines) → `client` (one small REST client class) → `sse` (the
event-stream parser), `config` (the saved login), `errors`."""
