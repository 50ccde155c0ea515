"""Closed by default, through the real stack (`scripts/up`, Envoy, the API): the built-in
identity serves no password unless enabled, only access tokens of configured issuers (and the
configured audience) are accepted, admin status is bound to the issuer that vouched, and
password guessing meets HTTP 429 with Retry-After."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.common.generated.pods.v1 import identity_service_pb2, identity_service_pb2_grpc
from tests.e2e.harness import REPO, Stack, free_port, start_stack, stop_stack

pytestmark = [pytest.mark.docker, pytest.mark.stack]

IDP_ISSUER = "https://idp.example.org/oauth2"
AUDIENCE = "pods-e2e"
IDP_KID = "idp-key-1"


class Idp:
    """An external issuer: an RSA key, its JWKS served over HTTP, and a token minter."""

    def __init__(self, tmp: Path) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key_file = tmp / "idp-public.pem"
        self.public_key_file.write_bytes(
            self.key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        body = json.dumps({"keys": [{**jwk, "kid": IDP_KID, "use": "sig", "alg": "RS256"}]})
        self.requests = 0
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                idp.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.jwks_url = f"http://127.0.0.1:{self.server.server_port}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, username: str, **overrides: Any) -> str:
        key = overrides.pop("key", self.key)
        now = int(time.time())
        claims = {
            "iss": IDP_ISSUER,
            "aud": AUDIENCE,
            "sub": f"{username}@dev",
            "iat": now,
            "exp": now + 600,
            "jti": str(uuid.uuid4()),
            "tapis/tenant_id": "dev",
            "tapis/username": username,
            "tapis/token_type": "access",
            **overrides,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": IDP_KID})


def call(
    stack: Stack,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    token: str = "",
    extra: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """(status, lower-cased headers, JSON body) of a raw HTTP call through the gateway."""
    headers = {"Content-Type": "application/json", **(extra or {})}
    if token:
        headers["X-Tapis-Token"] = token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(stack.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, head, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, head, raw = error.code, error.headers, error.read()
    parsed = json.loads(raw) if raw and "json" in head.get("content-type", "") else {}
    return status, {k.lower(): v for k, v in head.items()}, parsed


def login(
    stack: Stack, username: str, password: str, extra: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    grant = {"username": username, "password": password, "grant_type": "password"}
    return call(stack, "POST", "/v3/oauth2/tokens", grant, extra=extra)


def is_admin(stack: Stack, token: str) -> bool:
    """Deleting an image rule that does not exist: 404 for tenant admins, 403 for others."""
    status, _, data = call(stack, "DELETE", "/v3/pods/images/no-such-image", token=token)
    assert status in (403, 404), (status, data)
    return status == 404


def built_in_token(stack: Stack, username: str, **overrides: Any) -> str:
    """A token signed with the stack's own built-in key, as if the dev identity issued it."""
    key = (stack.data_dir / "jwt-private.pem").read_bytes()
    now = int(time.time())
    claims = {
        "iss": f"{stack.url}/v3/tokens",
        "sub": f"{username}@dev",
        "iat": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
        "tapis/tenant_id": "dev",
        "tapis/username": username,
        "tapis/token_type": "access",
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="RS256")


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Idp]:
    issuer = Idp(tmp_path_factory.mktemp("idp"))
    try:
        yield issuer
    finally:
        issuer.server.shutdown()


@pytest.fixture(scope="module")
def external(tmp_path_factory: pytest.TempPathFactory, idp: Idp) -> Iterator[Stack]:
    """The built-in identity off (dev users still listed, and still refused); the external
    issuer's keys from its JWKS URL; `adminuser` is admin only on the built-in identity."""
    env = {
        "PODS_DEV_IDENTITY": "0",
        "PODS_JWT_ISSUER": IDP_ISSUER,
        "PODS_JWT_JWKS_URL": idp.jwks_url,
        "PODS_JWT_AUDIENCE": AUDIENCE,
        "PODS_JWT_ADMIN_USERS": "idpadmin",
    }
    stack = start_stack(tmp_path_factory.mktemp("external"), env)
    try:
        yield stack
    finally:
        stop_stack(stack)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory, idp: Idp) -> Iterator[Stack]:
    """The local stack as `scripts/up` runs it, also trusting the external issuer (its PEM
    key file), with `otheruser` admin for that issuer only and a low address limit."""
    env = {
        "PODS_JWT_ISSUER": IDP_ISSUER,
        "PODS_JWT_PUBLIC_KEY_FILE": str(idp.public_key_file),
        "PODS_JWT_ADMIN_USERS": "otheruser",
        "PODS_LOGIN_ADDRESS_FAILURES": "50",
    }
    stack = start_stack(tmp_path_factory.mktemp("dev"), env)
    try:
        yield stack
    finally:
        stop_stack(stack)


# -- the built-in identity is off unless enabled ----------------------------------------------


def test_the_default_password_is_refused_when_the_dev_identity_is_off(external: Stack) -> None:
    status, _, data = login(external, "testuser", "testpass")
    assert status == 404, data
    assert "built-in identity" in data["message"] and IDP_ISSUER in data["message"]


def test_tokens_of_the_disabled_built_in_issuer_are_refused(external: Stack) -> None:
    status, _, data = call(external, "GET", "/v3/pods", token=built_in_token(external, "testuser"))
    assert status == 401, data
    assert "not trusted" in data["message"]


def exit_of(args: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """(exit code, output) of a process expected to refuse to start. One that runs on is
    stopped the way Ctrl-C stops the stack (so nothing it started is left behind) and fails
    the test."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            args,
            env=env,
            cwd=REPO,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            output.seek(0)
            raise AssertionError(f"{args} kept running: {output.read()[-2000:]!r}") from None
        output.seek(0)
        return code, output.read().decode(errors="replace")


def isolated_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment without PODS_* of ours, on free ports and a private data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODS_")}
    ports = ("GATEWAY", "GATEWAY_ADMIN", "API", "SPAWNER", "HEALTH", "NATS", "PODS", "ROUTER")
    env.update({f"PODS_{name}_PORT": str(free_port()) for name in ports})
    env.update(
        PODS_SKIP_SETUP="1",
        PODS_DATA_DIR=str(tmp / "data"),
        PODS_DEPLOYMENT_ID=f"e2e{uuid.uuid4().hex[:8]}",
        **extra,
    )
    return env


def test_the_api_refuses_to_start_without_an_identity(tmp_path: Path) -> None:
    code, output = exit_of([sys.executable, "-m", "services.api"], isolated_env(tmp_path))
    assert code == 2, output
    assert "no identity is configured" in output


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"PODS_BIND_ADDRESS": "0.0.0.0"}, ["PODS_DEV_IDENTITY=local", "0.0.0.0"]),
        ({"PODS_DEV_IDENTITY": "1"}, ["testuser", "well-known"]),
    ],
)
def test_scripts_up_refuses_the_readme_password_off_the_local_stack(
    tmp_path: Path, extra: dict[str, str], words: list[str]
) -> None:
    env = isolated_env(tmp_path, **extra)
    code, output = exit_of(["bash", str(REPO / "scripts" / "up")], env)
    assert code != 0, output
    for word in words:
        assert word in output
    assert "testpass" not in output


# -- only access tokens of configured issuers, for our audience --------------------------------


def test_an_external_access_token_from_the_jwks_works(external: Stack, idp: Idp) -> None:
    status, _, data = call(external, "GET", "/v3/pods", token=idp.token("alice"))
    assert status == 200, data
    assert idp.requests >= 1


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"tapis/token_type": "refresh"}, ["refresh", "access"]),
        ({"tapis/token_type": None}, ["token_type"]),
        ({"aud": "another-service"}, ["audience"]),
        ({"aud": None}, ["aud"]),
        ({"iss": "https://elsewhere.example.org"}, ["not trusted"]),
    ],
)
def test_other_tokens_of_the_external_issuer_are_refused(
    external: Stack, idp: Idp, overrides: dict[str, Any], words: list[str]
) -> None:
    status, _, data = call(external, "GET", "/v3/pods", token=idp.token("alice", **overrides))
    assert status == 401, data
    for word in words:
        assert word in data["message"], data


def test_a_token_signed_with_another_key_is_refused(external: Stack, idp: Idp) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    status, _, data = call(external, "GET", "/v3/pods", token=idp.token("alice", key=other))
    assert status == 401, data


def test_a_built_in_refresh_token_is_refused(dev: Stack) -> None:
    status, _, data = call(dev, "GET", "/v3/pods", token=built_in_token(dev, "testuser"))
    assert status == 200, data
    refresh = built_in_token(dev, "testuser", **{"tapis/token_type": "refresh"})
    status, _, data = call(dev, "GET", "/v3/pods", token=refresh)
    assert status == 401, data
    assert "refresh" in data["message"]


def test_issued_tokens_are_access_tokens(dev: Stack) -> None:
    status, _, data = login(dev, "testuser", "testpass")
    assert status == 200, data
    token = data["result"]["access_token"]["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["tapis/token_type"] == "access"


# -- admin status is bound to the issuer that vouched ------------------------------------------


def test_admins_of_the_built_in_identity_are_not_admins_through_another_issuer(
    external: Stack, idp: Idp
) -> None:
    assert is_admin(external, idp.token("idpadmin"))
    assert not is_admin(external, idp.token("adminuser"))  # PODS_ADMIN_USERS=adminuser


def test_admins_of_the_external_issuer_are_not_admins_of_the_built_in_one(
    dev: Stack, idp: Idp
) -> None:
    assert is_admin(dev, dev.token("adminuser", "adminpass"))
    # No audience is configured on this stack: the issuer's tokens need none.
    assert not is_admin(dev, idp.token("adminuser", aud=None))
    assert is_admin(dev, idp.token("otheruser", aud=None))  # PODS_JWT_ADMIN_USERS=otheruser
    assert not is_admin(dev, dev.token("otheruser", "otherpass"))


# -- password guessing -------------------------------------------------------------------------


def test_password_guessing_meets_429_per_user_then_per_address(dev: Stack) -> None:
    for attempt in range(30):
        status, _, data = login(dev, "testuser", f"guess{attempt}")
        assert status == 401, (attempt, data)
    status, headers, data = login(dev, "testuser", "testpass")  # even the right one, for now
    assert status == 429, data
    assert int(headers["retry-after"]) > 0
    assert "testuser" in data["message"]
    # Natively over gRPC through the gateway: RESOURCE_EXHAUSTED with retry-after metadata.
    with grpc.insecure_channel(f"127.0.0.1:{dev.env['PODS_GATEWAY_PORT']}") as channel:
        stub = identity_service_pb2_grpc.IdentityServiceStub(channel)
        grant = identity_service_pb2.CreateTokenRequest(
            username="testuser", password="testpass", grant_type="password"
        )
        with pytest.raises(grpc.RpcError) as refused:
            stub.CreateToken(grant, timeout=10)
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    trailers = {m.key: m.value for m in refused.value.trailing_metadata()}
    assert int(trailers["retry-after"]) > 0
    status, _, data = login(dev, "otheruser", "otherpass")  # other users are not locked out
    assert status == 200, data
    # The address (limit 50 here) counts every failure; a success does not clear it, and an
    # X-Forwarded-For the client makes up does not hide it (the gateway appends the real one).
    blocked = None
    for attempt in range(30):
        spoofed = {"X-Forwarded-For": f"198.51.100.{attempt}"}
        status, headers, data = login(dev, f"nobody{attempt}", "guess", spoofed)
        if status == 429:
            blocked = attempt
            break
        assert status == 401, (attempt, data)
    assert blocked == 20, blocked
    assert int(headers["retry-after"]) > 0
    status, _, data = login(dev, "adminuser", "adminpass")
    assert status == 429, data
    assert "address" in data["message"]
