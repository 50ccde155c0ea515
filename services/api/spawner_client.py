"""The API's client of the spawner's internal gRPC service: runs commands in pods for
PodsService.ExecPod (domain.execution.CommandRunner)."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from services.api.errors import ResourceExhaustedError
from services.common.generated.pods.v1 import spawner_service_pb2 as pb
from services.common.generated.pods.v1 import spawner_service_pb2_grpc as pb_grpc
from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.types import ExecResult, PodKey


class SpawnerCommandRunner:
    """CommandRunner over SpawnerService.ExecInPod."""

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

    async def close(self) -> None:
        await self._channel.close(None)
