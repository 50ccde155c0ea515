"""The canonical API is gRPC: the same calls natively through the gateway's port, with the
token in metadata, the same rules and the right status codes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import grpc
import pytest

from services.common.generated.pods.v1 import pod_pb2
from services.common.generated.pods.v1 import pods_service_pb2 as pb
from services.common.generated.pods.v1 import pods_service_pb2_grpc as pb_grpc
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.docker, pytest.mark.stack]


@pytest.fixture(scope="module")
def stub(stack: Stack) -> Iterator[pb_grpc.PodsServiceStub]:
    port = stack.env["PODS_GATEWAY_PORT"]
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield pb_grpc.PodsServiceStub(channel)


def test_pods_over_native_grpc(stack: Stack, stub: pb_grpc.PodsServiceStub) -> None:
    auth = (("x-tapis-token", stack.token()),)
    created = stub.CreatePod(
        pb.CreatePodRequest(pod=pod_pb2.Pod(pod_id="grpcpod", image="pods-http:latest")),
        metadata=auth,
        timeout=10,
    )
    assert created.result.status == "REQUESTED"
    deadline = time.monotonic() + 60
    while stub.GetPod(pb.GetPodRequest(pod_id="grpcpod"), metadata=auth).result.status != (
        "AVAILABLE"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    listed = stub.ListPods(pb.ListPodsRequest(), metadata=auth)
    assert "grpcpod" in [p.pod_id for p in listed.result]
    stopped = stub.StopPod(pb.StopPodRequest(pod_id="grpcpod"), metadata=auth)
    assert stopped.result.status_requested == "OFF"
    stub.DeletePod(pb.DeletePodRequest(pod_id="grpcpod"), metadata=auth)


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda s, a: s.GetPod(pb.GetPodRequest(pod_id="nosuchpod"), metadata=a), "NOT_FOUND"),
        (
            lambda s, a: s.CreatePod(pb.CreatePodRequest(pod=pod_pb2.Pod(pod_id="x")), metadata=a),
            "INVALID_ARGUMENT",
        ),
        (lambda s, a: s.ListPods(pb.ListPodsRequest()), "UNAUTHENTICATED"),
        (
            lambda s, a: s.AddImage(pb.AddImageRequest(), metadata=a),
            "PERMISSION_DENIED",
        ),
    ],
)
def test_errors_carry_their_grpc_status(
    stack: Stack, stub: pb_grpc.PodsServiceStub, call: object, code: str
) -> None:
    auth = (("x-tapis-token", stack.token()),)
    with pytest.raises(grpc.RpcError) as info:
        call(stub, auth)  # type: ignore[operator]
    assert info.value.code().name == code
    assert info.value.details()
