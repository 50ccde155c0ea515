"""PodAuthService over gRPC (and REST through the gateway): Tapis's pod login paths,
`GET /v3/pods/{pod_id_net}/auth` and `/auth/callback`. Registered by services/api/server.py;
the logic is domain/pod_auth_query.py."""

from __future__ import annotations

from typing import Any

import grpc

from services.api.domain.login_ports import PodReader
from services.api.domain.pod_auth_query import pod_auth_status, split_pod_id_net
from services.api.domain.principal import Principal
from services.api.errors import FailedPreconditionError
from services.api.transport.auth import Authenticator
from services.api.transport.enveloped import Authenticated, Reply, enveloped
from services.api.transport.pods_convert import pod_url
from services.api.transport.status import rpc
from services.common.generated.pods.v1 import pod_auth_service_pb2 as pb
from services.common.generated.pods.v1 import pod_auth_service_pb2_grpc as pb_grpc
from services.common.pod_auth_model import LOGIN_CALLBACK_PATH

Context = grpc.aio.ServicerContext[Any, Any]


class PodAuthServicer(Authenticated, pb_grpc.PodAuthServiceServicer):
    """Thin transport over domain/pod_auth_query.py."""

    def __init__(
        self, pods: PodReader, auth: Authenticator, site_id: str, pod_domain: str, pods_port: int
    ) -> None:
        super().__init__(auth)
        self._pods = pods
        self._site_id = site_id
        self._pod_domain = pod_domain
        self._pods_port = pods_port

    @enveloped(pb.GetPodAuthResponse)
    async def GetPodAuth(self, request: pb.GetPodAuthRequest, who: Principal) -> Reply:
        found = await pod_auth_status(self._pods, who, request.pod_id_net, self._site_id)
        url = pod_url(found.pod_id, found.stanza, self._pod_domain, self._pods_port)
        result = pb.PodAuth(
            pod_id_net=request.pod_id_net,
            tapis_auth=found.tapis_auth,
            username=found.username,
            headers=dict(found.headers),
            url=url,
            pod_id=found.pod_id,
        )
        message = "Already authenticated." if found.tapis_auth else "No login on this pod port."
        return Reply(result, message)

    @rpc
    async def GetPodAuthCallback(
        self, request: pb.GetPodAuthCallbackRequest, context: Context
    ) -> pb.GetPodAuthCallbackResponse:
        pod_id, stanza = split_pod_id_net(request.pod_id_net)
        address = pod_url(pod_id, stanza, self._pod_domain, self._pods_port)
        raise FailedPreconditionError(
            f"this deployment's login callback is on the pod's own host: "
            f"https://{address}{LOGIN_CALLBACK_PATH} (open https://{address}/ to log in)"
        )
