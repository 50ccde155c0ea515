"""Builds the gateway's login check (transport/login_servicer.py) for the api process: the
pod login with its signing secret, the built-in identity's authorization codes and its
authorize page. Called by services/api/server.py.

The secret signing session cookies and login states is generated on first use in the data
directory (`login-secret.key`, mode 0600), like the built-in identity's key, so sessions
survive a restart of the api. Replicas of the api must share the data directory's file.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import grpc
from envoy.service.auth.v3 import external_auth_pb2_grpc

from services.api.domain.authorize import CLIENT_ID, AuthorizationCodes
from services.api.domain.identity import Identity
from services.api.domain.login_ports import PodReader
from services.api.domain.login_session import Signer
from services.api.domain.pod_login import LoginEndpoints, PodLogin
from services.api.transport.auth import Authenticator
from services.api.transport.authorize_check import AUTHORIZE_PATH, AuthorizePage
from services.api.transport.login_servicer import LoginServicer, TokenUsers
from services.common.key_files import load_or_create
from services.common.settings import Settings

SECRET_FILE = "login-secret.key"  # noqa: S105 - a file name
SECRET_BYTES = 32


def load_or_create_secret(path: Path) -> bytes:
    """The secret in `path` (hex), generated (random, file mode 0600) on first use."""
    text = load_or_create(path, lambda: secrets.token_hex(SECRET_BYTES).encode("ascii"))
    return bytes.fromhex(text.decode("ascii").strip())


def login_servicer(
    settings: Settings,
    identity: Identity,
    auth: Authenticator,
    pods: PodReader,
    clock: Callable[[], datetime],
) -> LoginServicer:
    """The check for pod logins and the authorize page of this api."""
    codes = AuthorizationCodes(identity, settings.pod_domain, clock)
    pod_login = PodLogin(
        pods=pods,
        codes=codes,
        tokens=TokenUsers(auth),
        signer=Signer(load_or_create_secret(settings.data_dir / SECRET_FILE)),
        endpoints=LoginEndpoints(
            authorize_url=f"{settings.public_url}{AUTHORIZE_PATH}",
            client_id=CLIENT_ID,
            site_id=settings.site_id,
        ),
        clock=clock,
    )
    return LoginServicer(pod_login, AuthorizePage(codes, settings.tenant_id))


def register_login(server: grpc.aio.Server, servicer: LoginServicer) -> None:
    external_auth_pb2_grpc.add_AuthorizationServicer_to_server(servicer, server)
