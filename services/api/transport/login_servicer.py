"""The gateway's login check: Envoy's `envoy.service.auth.v3.Authorization/Check`, asked by
the ext_authz filter (gateway/pod_login.py) before a request reaches a pod with tapis_auth or
the built-in identity's authorize page. Translates Envoy's CheckRequest into an HttpRequest,
lets domain/pod_login.py or authorize_check.py decide, and writes the answer back: an OK
with the headers the pod gets, or a denied response that is the reply itself (a redirect,
the login page, 401, 403).

Registered on the api's gRPC server by services/api/login_wiring.py. It is not one of the
public services: the gateway reaches it on the api's port, no public route leads to it, and
what it decides only concerns the request the gateway asks about. Any failure (database
down, a bug) is answered 503: a request is never let through because the check failed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import grpc
from envoy.config.core.v3 import base_pb2
from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc
from envoy.type.v3 import http_status_pb2
from google.rpc import code_pb2, status_pb2

from services.api.domain.http_check import Allow, HttpRequest, Reply, text_reply
from services.api.domain.login_ports import LoggedIn
from services.api.domain.pod_login import PodLogin, PodPort
from services.api.errors import ApiError
from services.api.transport.auth import Authenticator
from services.api.transport.authorize_check import AuthorizePage

Context = grpc.aio.ServicerContext[Any, Any]
log = logging.getLogger(__name__)

KIND_POD = "pod"  # gateway/pod_login.py's context_extensions["kind"]
KIND_AUTHORIZE = "authorize"
_OVERWRITE = base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
_APPEND = base_pb2.HeaderValueOption.APPEND_IF_EXISTS_OR_ADD


class TokenUsers:
    """domain/login_ports.py's TokenUsers over the API's own token check."""

    def __init__(self, auth: Authenticator) -> None:
        self._auth = auth

    def user_of(self, token: str) -> LoggedIn | None:
        try:
            principal = self._auth.principal_of(token)
        except ApiError:
            return None
        return LoggedIn(principal.tenant_id, principal.username, datetime.now(UTC))


class LoginServicer(external_auth_pb2_grpc.AuthorizationServicer):
    """Answers Envoy's checks for pod logins and the authorize page."""

    def __init__(self, pods: PodLogin, authorize: AuthorizePage) -> None:
        self._pods = pods
        self._authorize = authorize

    async def Check(
        self, request: external_auth_pb2.CheckRequest, context: Context
    ) -> external_auth_pb2.CheckResponse:
        attributes = request.attributes
        extensions = dict(attributes.context_extensions)
        http = attributes.request.http
        asked = HttpRequest(
            method=http.method,
            host=http.host,
            path=http.path,
            headers={key.lower(): value for key, value in http.headers.items()},
            body=http.body,
            client_address=attributes.source.address.socket_address.address,
        )
        try:
            answer = await self._answer(extensions, asked)
        except Exception:  # never let a request through because the check broke
            log.exception("login check failed for %s%s", asked.host, asked.route)
            answer = text_reply(503, "the login check is unavailable; try again shortly")
        return check_response(answer)

    async def _answer(self, extensions: dict[str, str], request: HttpRequest) -> Allow | Reply:
        kind = extensions.get("kind", "")
        if kind == KIND_POD:
            port = PodPort(
                tenant_id=extensions.get("tenant_id", ""),
                pod_id=extensions.get("pod_id", ""),
                stanza=extensions.get("stanza", ""),
                host=extensions.get("host", ""),
            )
            return await self._pods.check(port, request)
        if kind == KIND_AUTHORIZE:
            return self._authorize.answer(request)
        return text_reply(403, "this route has no login")


def check_response(answer: Allow | Reply) -> external_auth_pb2.CheckResponse:
    """Envoy's CheckResponse for a domain answer."""
    if isinstance(answer, Allow):
        return external_auth_pb2.CheckResponse(
            status=status_pb2.Status(code=code_pb2.OK),
            ok_response=external_auth_pb2.OkHttpResponse(
                headers=[_header(k, v, _OVERWRITE) for k, v in answer.set_headers.items()],
                headers_to_remove=list(answer.remove_headers),
            ),
        )
    headers = [_header("content-type", answer.content_type, _OVERWRITE)]
    headers.extend(_header(k, v, _APPEND) for k, v in answer.headers)
    return external_auth_pb2.CheckResponse(
        status=status_pb2.Status(code=code_pb2.PERMISSION_DENIED),
        denied_response=external_auth_pb2.DeniedHttpResponse(
            status=http_status_pb2.HttpStatus(code=answer.status),
            headers=headers,
            body=answer.body,
        ),
    )


def _header(key: str, value: str, action: int) -> base_pb2.HeaderValueOption:
    return base_pb2.HeaderValueOption(
        header=base_pb2.HeaderValue(key=key, value=value), append_action=action
    )
