"""SpawnerService.CopyIntoPod: writes a file into a pod's running container for the API's
PodFilesService.UploadToPod (the API has checked the caller's permission and the path).
A mixin of server.SpawnerServicer, as the observation and storage RPCs are; it comes first
among its bases, since it does not subclass the generated servicer, whose placeholder
(UNIMPLEMENTED) would otherwise answer."""

from __future__ import annotations

from typing import Any

import grpc

from services.common.generated.pods.v1 import spawner_service_pb2 as pb
from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.types import PodKey, Runtime

Context = grpc.aio.ServicerContext[Any, Any]


class CopyServicer:
    """CopyIntoPod over a Runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self._copy_runtime = runtime

    async def CopyIntoPod(
        self, request: pb.CopyIntoPodRequest, context: Context
    ) -> pb.CopyIntoPodResponse:
        key = PodKey(request.tenant_id, request.pod_id)
        if not request.dest_path.startswith("/"):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "dest_path: must be absolute")
        try:
            await self._copy_runtime.copy_into(key, request.dest_path, request.data)
        except FileNotFoundError as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        except IsADirectoryError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except PermanentError as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
        except TemporaryError as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        return pb.CopyIntoPodResponse()
