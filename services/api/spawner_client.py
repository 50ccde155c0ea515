"""The API's client of the spawner's internal gRPC service: runs commands in pods for
PodsService.ExecPod (domain.execution.CommandRunner) and writes files into them for
PodFilesService.UploadToPod (domain.pod_files.PodFileWriter)."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from services.api.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    ResourceExhaustedError,
)
from services.common.generated.pods.v1 import spawner_service_pb2 as pb
from services.common.generated.pods.v1 import spawner_service_pb2_grpc as pb_grpc
from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.types import ExecResult, PodKey

# Seconds a copy into a pod may take (4 MiB at most).
COPY_TIMEOUT = 120.0


class SpawnerCommandRunner:
    """CommandRunner over SpawnerService.ExecInPod, PodFileWriter over CopyIntoPod."""

    def __init__(self, address: str) -> None:
        self._channel = grpc.aio.insecure_channel(address)
        self._stub = pb_grpc.SpawnerServiceStub(self._channel)

    async def run(
        self, key: PodKey, user: str, argv: Sequence[str], timeout: float, limit_bytes: int
    ) -> ExecResult:
        request = pb.ExecInPodRequest(
            tenant_id=key.tenant_id,
            pod_id=key.pod_id,
            argv=list(argv),
            timeout_seconds=timeout,
            limit_bytes=limit_bytes,
            user=user,
        )
        try:
            # Cancelling this await (the API's own caller went away) cancels the call, and the
            # spawner then kills the command.
            reply = await self._stub.ExecInPod(request, timeout=timeout + 30)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise ResourceExhaustedError(exc.details() or "too many commands") from None
            if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:
                raise PermanentError(exc.details() or "the pod cannot run commands") from None
            raise TemporaryError(f"the spawner did not answer: {exc.details()}") from None
        return ExecResult(
            exit_code=reply.exit_code if reply.HasField("exit_code") else None,
            stdout=reply.stdout,
            stderr=reply.stderr,
            timed_out=reply.timed_out,
        )

    async def copy_into(self, key: PodKey, dest_path: str, data: bytes) -> None:
        request = pb.CopyIntoPodRequest(
            tenant_id=key.tenant_id, pod_id=key.pod_id, dest_path=dest_path, data=data
        )
        try:
            await self._stub.CopyIntoPod(request, timeout=COPY_TIMEOUT)
        except grpc.aio.AioRpcError as exc:
            details = exc.details() or "the pod refused the file"
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                raise InvalidArgumentError("dest_path", details) from None
            if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:
                raise FailedPreconditionError(details) from None
            raise TemporaryError(f"the spawner did not answer: {exc.details()}") from None

    async def close(self) -> None:
        await self._channel.close(None)
