"""Exec concurrency limits (issue 9) through the whole stack: beyond the per-pod or per-user
limit an exec is refused at once with HTTP 429 through Envoy and RESOURCE_EXHAUSTED over gRPC,
with a message naming the limit; other users are not affected."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from google.protobuf.struct_pb2 import ListValue, Value

from services.common.generated.pods.v1 import pods_service_pb2 as pb
from services.common.generated.pods.v1 import pods_service_pb2_grpc as pb_grpc
from tests.e2e.exec_support import (
    available_pod,
    exec_in_background,
    exec_pod,
    stack_with_limits,
    wait_for_processes,
)
from tests.e2e.harness import Stack, stop_stack

pytestmark = [pytest.mark.docker, pytest.mark.stack]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = stack_with_limits(tmp_path_factory.mktemp("execlim"), 2, 3, 10)
    try:
        yield running
    finally:
        stop_stack(running)


def test_per_pod_and_per_user_limits_answer_429_and_resource_exhausted(stack: Stack) -> None:
    user, other = stack.token(), stack.token("otheruser", "otherpass")
    available_pod(stack, user, "limitpod1")
    available_pod(stack, user, "limitpod2")
    available_pod(stack, other, "otherspod")
    held = [exec_in_background(stack, user, "limitpod1", ["sleep", "251"], 60) for _ in range(2)]
    wait_for_processes(stack, "limitpod1", "sleep 251", 2, 30)

    status, data = exec_pod(stack, user, "limitpod1", ["true"], 10)
    assert status == 429, data
    assert "PODS_EXEC_MAX_PER_POD" in data["message"], data

    held.append(exec_in_background(stack, user, "limitpod2", ["sleep", "252"], 60))
    wait_for_processes(stack, "limitpod2", "sleep 252", 1, 30)
    status, data = exec_pod(stack, user, "limitpod2", ["true"], 10)
    assert status == 429, data
    assert "PODS_EXEC_MAX_PER_USER" in data["message"], data

    with grpc.insecure_channel(f"127.0.0.1:{stack.env['PODS_GATEWAY_PORT']}") as channel:
        stub = pb_grpc.PodsServiceStub(channel)
        commands = ListValue(values=[Value(string_value="true")])
        with pytest.raises(grpc.RpcError) as info:
            stub.ExecPod(
                pb.ExecPodRequest(pod_id="limitpod2", commands=commands),
                metadata=(("x-tapis-token", user),),
                timeout=20,
            )
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "PODS_EXEC_MAX_PER_USER" in (info.value.details() or "")

    # another user is not limited by this user's execs
    status, data = exec_pod(stack, other, "otherspod", ["echo", "fine"], 10)
    assert status == 200, data
    assert data["result"]["execution_results"][0]["stdout"] == "fine\n"
    assert not any(held), "the held execs are still running"
    for pod_id in ("limitpod1", "limitpod2", "otherspod"):
        stack.request(
            "DELETE", f"/v3/pods/{pod_id}", token=user if pod_id != "otherspod" else other
        )
