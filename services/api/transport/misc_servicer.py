"""MiscService over gRPC: the health check, and clear refusals (UNIMPLEMENTED, HTTP 501) of
the Tapis calls this service has no counterpart for: Traefik's configuration and error pages,
and the Jupyter integration. Registered by services/api/server.py."""

from __future__ import annotations

from typing import Any, NoReturn

import grpc

from services.api.transport.auth import Authenticator
from services.api.transport.convert import envelope
from services.api.transport.status import rpc
from services.common.generated.pods.v1 import misc_service_pb2 as pb
from services.common.generated.pods.v1 import misc_service_pb2_grpc as pb_grpc

Context = grpc.aio.ServicerContext[Any, Any]

HEALTHY = "The Pods API is up."
NO_TRAEFIK = (
    "not part of this service: Tapis Pods routes pods with Traefik, this one with Envoy, "
    "whose routes come from the pod router; there is no Traefik configuration or error page"
)
NO_JUPYTER = (
    "not part of this service: it has no Jupyter integration; create a pod from a Jupyter "
    "image or template, and put files into it with upload_to_pod"
)


class MiscServicer(pb_grpc.MiscServiceServicer):
    """The health check and the refusals; the Jupyter ones authenticate the caller first."""

    def __init__(self, auth: Authenticator) -> None:
        self._auth = auth

    @rpc
    async def Healthcheck(
        self, request: pb.HealthcheckRequest, context: Context
    ) -> pb.HealthcheckResponse:
        return pb.HealthcheckResponse(result=HEALTHY, **envelope(HEALTHY))

    @rpc
    async def GetTraefikConfig(
        self, request: pb.GetTraefikConfigRequest, context: Context
    ) -> pb.GetTraefikConfigResponse:
        await _unimplemented(context, NO_TRAEFIK)

    @rpc
    async def GetErrorPage(
        self, request: pb.GetErrorPageRequest, context: Context
    ) -> pb.GetErrorPageResponse:
        await _unimplemented(context, NO_TRAEFIK)

    @rpc
    async def EnsureJupyterPod(
        self, request: pb.EnsureJupyterPodRequest, context: Context
    ) -> pb.EnsureJupyterPodResponse:
        self._auth.principal(context)
        await _unimplemented(context, NO_JUPYTER)

    @rpc
    async def UploadToJupyter(
        self, request: pb.UploadToJupyterRequest, context: Context
    ) -> pb.UploadToJupyterResponse:
        self._auth.principal(context)
        await _unimplemented(context, NO_JUPYTER)


async def _unimplemented(context: Context, message: str) -> NoReturn:
    await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)
    raise AssertionError("context.abort returns only by raising")
