"""IdentityService over gRPC: sites, tenants and tokens for the built-in identity. These calls need
no token (they are how a client gets one). Registered by services/api/server.py."""

from __future__ import annotations

from typing import Any

import grpc

from services.api.domain.identity import Identity
from services.api.transport.auth import client_address
from services.api.transport.convert import envelope
from services.api.transport.status import rpc
from services.common.generated.pods.v1 import envelope_pb2
from services.common.generated.pods.v1 import identity_service_pb2 as pb
from services.common.generated.pods.v1 import identity_service_pb2_grpc as pb_grpc

Context = grpc.aio.ServicerContext[Any, Any]


class IdentityServicer(pb_grpc.IdentityServiceServicer):
    """Thin transport over domain.identity.Identity."""

    def __init__(self, identity: Identity) -> None:
        self._identity = identity

    @rpc
    async def ListSites(
        self, request: pb.ListSitesRequest, context: Context
    ) -> pb.ListSitesResponse:
        tenant = self._identity.tenant
        site = envelope_pb2.Site(site_id=tenant.site_id, base_url=tenant.base_url, primary=True)
        return pb.ListSitesResponse(result=[site], **envelope("Sites retrieved."))

    @rpc
    async def ListTenants(
        self, request: pb.ListTenantsRequest, context: Context
    ) -> pb.ListTenantsResponse:
        t = self._identity.tenant
        tenant = envelope_pb2.Tenant(
            tenant_id=t.tenant_id,
            site_id=t.site_id,
            base_url=t.base_url,
            token_service=t.token_service,
            public_key=t.public_key,
        )
        return pb.ListTenantsResponse(result=[tenant], **envelope("Tenants retrieved."))

    @rpc
    async def CreateToken(
        self, request: pb.CreateTokenRequest, context: Context
    ) -> pb.CreateTokenResponse:
        issued = self._identity.login(
            request.username, request.password, request.grant_type, client_address(context)
        )
        token = pb.AccessToken(
            access_token=issued.token,
            expires_in=issued.expires_in,
            expires_at=issued.expires_at.isoformat(),
            jti=issued.jti,
        )
        return pb.CreateTokenResponse(
            result=pb.TokenResult(access_token=token),
            **envelope("Token created."),
        )
