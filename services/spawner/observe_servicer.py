"""SpawnerService's observation RPCs: what the runtime holds (inspect, list, logs, events)
offered to health, so that only the spawner talks to the container runtime. Health calls them
through services/health/remote_runtime.py.

Composed into SpawnerServicer (services/spawner/server.py); the unit and contract tests serve
it alone over a real grpc.aio channel. Runtime errors leave as the status codes of
services/common/runtime/wire.py, with their message.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from services.common.generated.pods.v1 import spawner_service_pb2 as pb
from services.common.generated.pods.v1 import spawner_service_pb2_grpc as pb_grpc
from services.common.runtime import wire
from services.common.runtime.types import PodKey, Runtime
from services.spawner.answers import Answers, Context

_ANSWERS = Answers(wire.code_for, "observing the runtime failed")
_abort = _ANSWERS.abort
_answer = _ANSWERS.answer


class ObserveServicer(pb_grpc.SpawnerServiceServicer):
    """The observation RPCs of SpawnerService over one Runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self._observed_runtime = runtime

    async def ListManagedContainers(
        self, request: pb.ListManagedContainersRequest, context: Context
    ) -> pb.ListManagedContainersResponse:
        states = await _answer(context, self._observed_runtime.list_managed())
        return pb.ListManagedContainersResponse(
            containers=[wire.container_to_pb(s) for s in states]
        )

    async def InspectContainer(
        self, request: pb.InspectContainerRequest, context: Context
    ) -> pb.InspectContainerResponse:
        key = PodKey(request.tenant_id, request.pod_id)
        state = await _answer(context, self._observed_runtime.inspect(key))
        if state is None:
            return pb.InspectContainerResponse()
        return pb.InspectContainerResponse(container=wire.container_to_pb(state))

    async def ReadContainerLogs(
        self, request: pb.ReadContainerLogsRequest, context: Context
    ) -> pb.ReadContainerLogsResponse:
        key = PodKey(request.tenant_id, request.pod_id)
        reading = self._observed_runtime.logs_since(key, request.cursor, request.limit_bytes)
        return wire.logs_to_pb(await _answer(context, reading))

    async def WatchContainerEvents(
        self, request: pb.WatchContainerEventsRequest, context: Context
    ) -> AsyncIterator[pb.WatchContainerEventsResponse]:
        events = self._observed_runtime.watch()
        try:
            async for event in events:
                yield wire.event_to_pb(event)
        except Exception as error:
            await _abort(context, error)
        finally:
            closing = getattr(events, "aclose", None)  # stops the runtime's subscription
            if closing is not None:
                with contextlib.suppress(Exception):
                    await closing()
