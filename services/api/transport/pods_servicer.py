"""PodsService over gRPC: authenticates the call, runs the use case, wraps the result in the
Tapis envelope. Registered by services/api/server.py."""

from __future__ import annotations

from typing import Any

import grpc

from services.api.domain.pods import Pods
from services.api.transport.auth import Authenticator
from services.api.transport.convert import envelope, pod_message, pod_request
from services.api.transport.status import rpc
from services.common.generated.pods.v1 import pod_pb2
from services.common.generated.pods.v1 import pods_service_pb2 as pb
from services.common.generated.pods.v1 import pods_service_pb2_grpc as pb_grpc

Context = grpc.aio.ServicerContext[Any, Any]


class PodsServicer(pb_grpc.PodsServiceServicer):
    """Thin transport over domain.pods.Pods."""

    def __init__(self, pods: Pods, auth: Authenticator, pod_domain: str, pods_port: int) -> None:
        self._pods = pods
        self._auth = auth
        self._domain = pod_domain
        self._port = pods_port

    @rpc
    async def CreatePod(
        self, request: pb.CreatePodRequest, context: Context
    ) -> pb.CreatePodResponse:
        who = self._auth.principal(context)
        record = await self._pods.create(who, pod_request(request.pod))
        return pb.CreatePodResponse(
            result=pod_message(record, self._domain, self._port),
            **envelope(f"Pod '{record.key.pod_id}' created; it is being started."),  # type: ignore[arg-type]
        )

    @rpc
    async def ListPods(self, request: pb.ListPodsRequest, context: Context) -> pb.ListPodsResponse:
        who = self._auth.principal(context)
        records = await self._pods.list(who)
        return pb.ListPodsResponse(
            result=[pod_message(r, self._domain, self._port) for r in records],
            **envelope(f"{len(records)} pods found."),  # type: ignore[arg-type]
        )

    @rpc
    async def GetPod(self, request: pb.GetPodRequest, context: Context) -> pb.GetPodResponse:
        who = self._auth.principal(context)
        record = await self._pods.get(who, request.pod_id)
        return pb.GetPodResponse(
            result=pod_message(record, self._domain, self._port),
            **envelope(f"Pod '{record.key.pod_id}' is {record.status.value}."),  # type: ignore[arg-type]
        )

    @rpc
    async def DeletePod(
        self, request: pb.DeletePodRequest, context: Context
    ) -> pb.DeletePodResponse:
        who = self._auth.principal(context)
        record = await self._pods.delete(who, request.pod_id)
        return pb.DeletePodResponse(
            result="",
            **envelope(f"Pod '{record.key.pod_id}' is being deleted."),  # type: ignore[arg-type]
        )

    @rpc
    async def GetPodLogs(
        self, request: pb.GetPodLogsRequest, context: Context
    ) -> pb.GetPodLogsResponse:
        who = self._auth.principal(context)
        view = await self._pods.logs(who, request.pod_id)
        return pb.GetPodLogsResponse(
            result=pod_pb2.PodLogs(logs=view.logs, action_logs=list(view.action_logs)),
            **envelope(f"Logs of pod '{request.pod_id}'."),  # type: ignore[arg-type]
        )

    @rpc
    async def GetPodCredentials(
        self, request: pb.GetPodCredentialsRequest, context: Context
    ) -> pb.GetPodCredentialsResponse:
        who = self._auth.principal(context)
        credentials = await self._pods.credentials(who, request.pod_id)
        return pb.GetPodCredentialsResponse(
            result=pod_pb2.PodCredentials(
                user_username=credentials.username, user_password=credentials.password
            ),
            **envelope(f"Credentials of pod '{request.pod_id}'."),  # type: ignore[arg-type]
        )
