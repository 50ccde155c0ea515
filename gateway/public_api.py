"""The part of the API the gateway exposes, in one place: the gRPC services it transcodes to
REST and serves natively (PUBLIC_SERVICES: add a new public service here), and the calls that
get longer timeouts than the REST timeout (exec, downloads).

Read by the REST listener's routes and transcoder (gateway/rest_routes.py,
gateway/rest_listener.py) and their tests.
"""

from __future__ import annotations

REST_PREFIX = "/v3/"
# gRPC services reachable from outside, natively and as REST. The spawner and health services
# are internal: no route leads to them.
PUBLIC_SERVICES: tuple[str, ...] = (
    "pods.v1.PodsService",
    "pods.v1.TemplatesService",
    "pods.v1.VolumesService",
    "pods.v1.SnapshotsService",
    "pods.v1.IdentityService",
)

# The longest call: ExecPod runs commands for up to MAX_TOTAL_TIMEOUT (an hour, in
# services/api/domain/execution.py; a unit test keeps the two in step), plus a minute.
LONG_CALL_TIMEOUT = 3600.0 + 60.0
EXEC_REST_REGEX = r"^/v3/pods/[^/]+/exec/?$"
EXEC_GRPC_PATH = "/pods.v1.PodsService/ExecPod"
# Downloads stream files of any size: they may run up to LONG_CALL_TIMEOUT as long as bytes
# keep moving (the idle timeout is the REST timeout).
DOWNLOAD_REST_REGEX = r"^/v3/pods/(volumes|snapshots)/[^/]+/contents/.*$"
DOWNLOAD_GRPC_PATHS = (
    "/pods.v1.VolumesService/GetVolumeContents",
    "/pods.v1.SnapshotsService/GetSnapshotContents",
)
