"""The whole stack with PODS_GATEWAY_TLS=1 (as in production): the real tapipy client works
over https, verifying the gateway's certificate with the development CA, native gRPC works
over TLS on the same port, and plain HTTP is refused without reaching the API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import grpc
import pytest
from tapipy.errors import BaseTapyException
from tapipy.tapis import Tapis

from services.common.generated.pods.v1 import pods_service_pb2, pods_service_pb2_grpc
from tests.e2e.harness import Stack, start_stack, stop_stack

pytestmark = [pytest.mark.docker, pytest.mark.stack]


@pytest.fixture(scope="module")
def tls_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("tls-stack"), {"PODS_GATEWAY_TLS": "1"})
    try:
        yield running
    finally:
        stop_stack(running)


def test_tapipy_works_over_https_verified_with_the_development_ca(tls_stack: Stack) -> None:
    assert tls_stack.url.startswith("https://localhost:")
    t = Tapis(
        base_url=tls_stack.url,
        username="testuser",
        password="testpass",
        verify=str(tls_stack.ca),  # requests takes a CA bundle path
    )
    t.get_tokens()
    assert t.pods.list_pods() == []
    with pytest.raises(BaseTapyException, match="pod 'nosuchpod' not found"):
        t.pods.get_pod(pod_id="nosuchpod")


def test_tapipy_refuses_a_certificate_it_cannot_verify(tls_stack: Stack) -> None:
    # Without the CA, tapipy's first request (sites and tenants, in its constructor) fails.
    with pytest.raises(BaseTapyException, match=r"CERTIFICATE_VERIFY_FAILED"):
        Tapis(base_url=tls_stack.url, username="testuser", password="testpass")


def test_native_grpc_over_tls(tls_stack: Stack) -> None:
    token = tls_stack.token()
    credentials = grpc.ssl_channel_credentials(root_certificates=tls_stack.ca.read_bytes())
    target = tls_stack.url.removeprefix("https://")
    with grpc.secure_channel(target, credentials) as channel:
        stub = pods_service_pb2_grpc.PodsServiceStub(channel)
        reply = stub.ListPods(
            pods_service_pb2.ListPodsRequest(), metadata=[("x-tapis-token", token)], timeout=10
        )
    assert list(reply.result) == []


def test_plain_http_is_refused_naming_the_https_url(tls_stack: Stack) -> None:
    plain = tls_stack.url.replace("https://", "http://")
    body = json.dumps({"username": "testuser", "password": "testpass", "grant_type": "password"})
    request = urllib.request.Request(
        f"{plain}/v3/oauth2/tokens",
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 400
    reply = json.loads(raised.value.read())
    raised.value.close()
    assert reply["message"] == f"This port speaks HTTPS only: use {tls_stack.url}"
