"""Bad input through the REST gateway gets the right 4xx, a message naming the problem,
and writes nothing."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.docker, pytest.mark.stack]


def pod_ids(stack: Stack, token: str) -> list[str]:
    status, _, data = stack.request("GET", "/v3/pods", token=token)
    assert status == 200 and isinstance(data, dict)
    return [p["pod_id"] for p in data["result"]]


def message_of(data: object) -> str:
    return str(data["message"]) if isinstance(data, dict) else str(data)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b'{"pod_id": "abc", ', 400, ["request body"]),
        (b'{"pod_id": 5, "image": "pods-http:latest"}', 400, ["pod_id"]),
        (b'{"pod_id": "abc", "image": "pods-http:latest", "command": {"x": 1}}', 400, ["command"]),
        # Tapis's pod_template: "template/<name>" names a template (here an unknown one);
        # anything else would be an image.
        (b'{"pod_id": "abc", "pod_template": "template/mysql"}', 400, ["template", "mysql"]),
        (b'{"pod_id": "abc"}', 400, ["image or template"]),
        (b'{"pod_id": "Bad_Id", "image": "pods-http:latest"}', 400, ["pod_id", "lowercase"]),
        (b'{"pod_id": "abc", "template": "mysql"}', 400, ["template", "mysql"]),
        (b'{"pod_id": "abc"}', 400, ["image", "template"]),
        (
            b'{"pod_id": "abc", "image": "x", "networking": {"default": {"port": 0, "protocol": "udp"}}}',
            400,
            ["protocol"],
        ),
    ],
)
def test_bad_create_requests_are_refused_and_write_nothing(
    stack: Stack, body: bytes, status: int, words: list[str]
) -> None:
    token = stack.token()
    before = pod_ids(stack, token)
    got, _, data = stack.request("POST", "/v3/pods", body, token=token)
    assert got == status, data
    text = message_of(data).lower()
    for word in words:
        assert word.lower() in text, text
    assert not set(pod_ids(stack, token)) - set(before)  # nothing new (others may go)


def test_a_duplicate_pod_id_is_a_conflict(stack: Stack, unique: Unique, cleanup: Cleanup) -> None:
    token = stack.token()
    duppod = cleanup.pod(unique("duppod"))
    body = json.dumps({"pod_id": duppod, "image": "pods-http:latest"}).encode()
    assert stack.request("POST", "/v3/pods", body, token=token)[0] == 200
    status, content_type, data = stack.request("POST", "/v3/pods", body, token=token)
    assert status == 409
    assert content_type == "application/json"
    assert duppod in message_of(data) and "exists" in message_of(data)
    assert pod_ids(stack, token).count(duppod) == 1
    assert stack.request("DELETE", f"/v3/pods/{duppod}", token=token)[0] == 200


def _expired_token(stack: Stack) -> str:
    key = (stack.data_dir / "jwt-private.pem").read_bytes()
    now = int(time.time())
    claims = {
        "iss": f"{stack.url}/v3/tokens",
        "sub": "testuser@dev",
        "exp": now - 60,
        "iat": now - 3600,
        "tapis/tenant_id": "dev",
        "tapis/username": "testuser",
        "tapis/token_type": "access",
    }
    return jwt.encode(claims, key, algorithm="RS256")


def _other_tenant_token(stack: Stack) -> str:
    """Properly signed by this deployment's key, but for a tenant it does not serve."""
    key = (stack.data_dir / "jwt-private.pem").read_bytes()
    claims = {
        "iss": f"{stack.url}/v3/tokens",
        "sub": "testuser@other",
        "exp": int(time.time()) + 600,
        "tapis/tenant_id": "other",
        "tapis/username": "testuser",
        "tapis/token_type": "access",
    }
    return jwt.encode(claims, key, algorithm="RS256")


def _forged_token(stack: Stack) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    claims = {
        "iss": f"{stack.url}/v3/tokens",
        "sub": "testuser@dev",
        "exp": int(time.time()) + 600,
        "tapis/tenant_id": "dev",
        "tapis/username": "testuser",
        "tapis/token_type": "access",
    }
    return jwt.encode(claims, pem, algorithm="RS256")


@pytest.mark.parametrize(
    ("make_token", "words"),
    [
        (lambda s: None, "no token"),
        (lambda s: "not-a-jwt", "not valid"),
        (_expired_token, "expired"),
        (_forged_token, "signature"),
        (_other_tenant_token, "not served here"),
    ],
)
def test_calls_without_a_valid_token_are_401_and_write_nothing(
    stack: Stack, make_token: object, words: str
) -> None:
    token = make_token(stack)  # type: ignore[operator]
    body = json.dumps({"pod_id": "sneaky", "image": "pods-http:latest"}).encode()
    status, _, data = stack.request("POST", "/v3/pods", body, token=token)
    assert status == 401, data
    assert words in message_of(data)
    assert "sneaky" not in pod_ids(stack, stack.token())
    assert stack.request("GET", "/v3/pods", token=token)[0] == 401


def test_wrong_password_is_401_and_bad_grant_is_400(stack: Stack) -> None:
    body = json.dumps({"username": "testuser", "password": "nope", "grant_type": "password"})
    status, _, data = stack.request("POST", "/v3/oauth2/tokens", body.encode())
    assert status == 401 and "invalid username or password" in message_of(data)
    body = json.dumps({"username": "testuser", "password": "testpass", "grant_type": "magic"})
    status, _, data = stack.request("POST", "/v3/oauth2/tokens", body.encode())
    assert status == 400 and "grant_type" in message_of(data)


def test_unknown_pod_is_404_and_internal_services_are_not_exposed(stack: Stack) -> None:
    token = stack.token()
    status, content_type, data = stack.request("GET", "/v3/pods/nosuchpod", token=token)
    assert status == 404 and content_type == "application/json"
    assert "nosuchpod" in message_of(data)
    assert stack.request("POST", "/pods.v1.SpawnerService/ReconcilePod", b"")[0] == 404
