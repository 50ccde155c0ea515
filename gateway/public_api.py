"""The part of the API the gateway exposes, in one place: the gRPC services it transcodes to
REST and serves natively (PUBLIC_SERVICES: add a new public service here), the calls that
get longer timeouts than the REST timeout (exec, downloads, streams), and the REST streams
(Server-Sent Events) routed by query parameter to STREAMS_SERVICE.

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
    "pods.v1.TemplateTagsService",
    "pods.v1.VolumesService",
    "pods.v1.SnapshotsService",
    "pods.v1.IdentityService",
    "pods.v1.PodFilesService",
    "pods.v1.MiscService",
    "pods.v1.PodAuthService",
)

# The longest call: exec runs commands for up to MAX_TOTAL_TIMEOUT (an hour, in
# services/api/domain/execution.py; a unit test keeps the two in step), plus a minute.
LONG_CALL_TIMEOUT = 3600.0 + 60.0
EXEC_REST_REGEX = r"^/v3/pods/[^/]+/exec/?$"
EXEC_GRPC_PATHS = (
    "/pods.v1.PodsService/ExecPodCommands",
    "/pods.v1.PodsService/ExecPod",  # deprecated
)
# Downloads stream files of any size: they may run up to LONG_CALL_TIMEOUT as long as bytes
# keep moving (the idle timeout is the REST timeout).
DOWNLOAD_REST_REGEX = r"^/v3/pods/(volumes|snapshots)/[^/]+/contents/.*$"
DOWNLOAD_GRPC_PATHS = (
    "/pods.v1.VolumesService/GetVolumeContents",
    "/pods.v1.SnapshotsService/GetSnapshotContents",
)

# Streams (watch and follow) stay open while the client listens: up to STREAM_TIMEOUT, and
# the REST ones send a keep-alive comment every 15 s (services/api/domain/watch.py), so their
# idle timeout is the REST timeout. Clients reconnect with Last-Event-ID after the limit.
STREAM_TIMEOUT = 24 * 3600.0
# The REST streams are PodStreamsService's HttpBody calls, transcoded by a per-route
# transcoder that knows only that service: its bindings share paths with PodsService's
# (`GET /v3/pods`, `GET /v3/pods/{pod_id}/logs`), so the gateway picks them by query parameter
# (`?watch=true`, `?follow=true`) and every other request goes to PodsService as before.
STREAMS_SERVICE = "pods.v1.PodStreamsService"
# (route name, path regex, the query parameter that must be "true", or "" for none)
SSE_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("rest-watch-pod", r"^/v3/pods/[^/]+/events/?$", ""),
    ("rest-watch-pods", r"^/v3/pods/?$", "watch"),
    # Every logs GET: `?follow=true` streams SSE, without it the API sends GetPodLogs'
    # envelope as JSON chunks (services/api/transport/logs_body.py), not transcoded here.
    ("rest-logs", r"^/v3/pods/[^/]+/logs/?$", ""),
)
# `GET /v3/pods/volumes/events` is volume "events", not the events of a pod "volumes" (a
# reserved pod id): these collections' two-segment paths keep their usual route.
NOT_POD_REST_REGEX = r"^/v3/pods/(volumes|snapshots|templates|images|quotas)/[^/]+/?$"
STREAM_GRPC_PATHS = (
    "/pods.v1.PodsService/WatchPod",
    "/pods.v1.PodsService/WatchPods",
    "/pods.v1.PodsService/FollowPodLogs",
)
