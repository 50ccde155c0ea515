"""Exec as Tapis users call it, through the real tapipy client unchanged: a list of strings is
ONE command, a list of lists is several, and the answer is Tapis's
`{execution_results: [{command, stdout, stderr, success, duration_sec, timestamp}],
total_commands, successful_commands}`. The deprecated gRPC ExecPod keeps its own shapes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.struct_pb2 import ListValue, Value
from tapipy.tapis import Tapis

from services.common.generated.pods.v1 import pods_service_pb2 as pb
from services.common.generated.pods.v1 import pods_service_pb2_grpc as pb_grpc
from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack, eventually
from tests.e2e.refusals import refusal
from tests.e2e.test_lifecycle import client

pytestmark = [pytest.mark.docker, pytest.mark.stack]


@pytest.fixture(scope="module")
def t(stack: Stack) -> Tapis:
    return client(stack)


@pytest.fixture(scope="module")
def execpod(t: Tapis, stack: Stack) -> Iterator[str]:
    pod_id = "shapespod"
    t.pods.create_pod(pod_id=pod_id, image="pods-http:latest")
    eventually(lambda: t.pods.get_pod(pod_id=pod_id).status == "AVAILABLE", 60, "AVAILABLE")
    yield pod_id
    t.pods.delete_pod(pod_id=pod_id)


def test_a_list_of_strings_is_one_command(t: Tapis, execpod: str) -> None:
    before = datetime.now(UTC).replace(tzinfo=None)
    ran = t.pods.exec_pod_commands(pod_id=execpod, commands=["sh", "-c", "echo one; echo two"])
    (result,) = ran.execution_results
    assert (ran.total_commands, ran.successful_commands) == (1, 1)
    assert result.command == ["sh", "-c", "echo one; echo two"]
    assert (result.stdout, result.stderr, result.success) == ("one\ntwo\n", "", True)
    assert 0 <= result.duration_sec < 30
    ended = datetime.fromisoformat(result.timestamp)  # as Tapis prints it: UTC, no offset
    assert ended.tzinfo is None
    assert before - timedelta(seconds=5) <= ended <= datetime.now(UTC).replace(tzinfo=None)


def test_a_list_of_lists_is_several_commands_stopping_at_a_failure(t: Tapis, execpod: str) -> None:
    commands = [["echo", "a"], ["sh", "-c", "echo bad >&2; exit 3"], ["echo", "c"]]
    stopped = t.pods.exec_pod_commands(pod_id=execpod, commands=commands)
    assert [r.success for r in stopped.execution_results] == [True, False]
    assert (stopped.total_commands, stopped.successful_commands) == (3, 1)
    assert stopped.execution_results[1].stderr == "bad\n"
    every = t.pods.exec_pod_commands(pod_id=execpod, commands=commands, fail_on_non_success=False)
    assert [r.stdout for r in every.execution_results] == ["a\n", "", "c\n"]
    assert (every.total_commands, every.successful_commands) == (3, 2)


def test_a_mix_of_the_two_shapes_is_refused_naming_the_field(t: Tapis, execpod: str) -> None:
    refusal(
        lambda: t.pods.exec_pod_commands(pod_id=execpod, commands=["ls", ["pwd"]]),
        400,
        "commands",
        "one command (a list of strings",
    )


def test_the_deprecated_grpc_exec_keeps_its_shapes(stack: Stack, execpod: str) -> None:
    token = stack.token("testuser", "testpass")
    commands = ListValue(values=[Value(string_value="echo a"), Value(string_value="echo b")])
    with grpc.insecure_channel(f"127.0.0.1:{stack.env['PODS_GATEWAY_PORT']}") as channel:
        reply = pb_grpc.PodsServiceStub(channel).ExecPod(
            pb.ExecPodRequest(pod_id=execpod, commands=commands),
            metadata=(("x-tapis-token", token),),
            timeout=60,
        )
    assert [(list(o.command), o.stdout) for o in reply.result] == [
        (["echo", "a"], "a\n"),
        (["echo", "b"], "b\n"),
    ]


def test_a_pod_created_off_is_not_started_until_asked(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    offpod = cleanup.pod(unique("offpod"))
    created = t.pods.create_pod(pod_id=offpod, image="pods-http:latest", status_requested="OFF")
    assert (created.status_requested, created.status) == ("OFF", "STOPPED")
    # Once the spawner has seen it (nothing left to reconcile), there is still no container.
    eventually(lambda: not t.pods.get_pod(pod_id=offpod).reconciling, 60, "reconciled")
    assert t.pods.get_pod(pod_id=offpod).status == "STOPPED"
    assert stack.containers(offpod) == []
    t.pods.start_pod(pod_id=offpod)
    eventually(lambda: t.pods.get_pod(pod_id=offpod).status == "AVAILABLE", 60, "AVAILABLE")
    t.pods.update_pod(pod_id=offpod, status_requested="OFF")
    eventually(lambda: t.pods.get_pod(pod_id=offpod).status == "STOPPED", 60, "STOPPED")
    t.pods.update_pod(pod_id=offpod, status_requested="ON")
    eventually(lambda: t.pods.get_pod(pod_id=offpod).status == "AVAILABLE", 60, "AVAILABLE")
    t.pods.delete_pod(pod_id=offpod)


def test_timestamps_and_action_logs_print_as_in_tapis(t: Tapis, execpod: str) -> None:
    pod = t.pods.get_pod(pod_id=execpod)
    created = datetime.fromisoformat(pod.creation_ts)
    started = datetime.fromisoformat(pod.start_instance_ts)
    stops = datetime.fromisoformat(pod.time_to_stop_ts)
    assert created.tzinfo is started.tzinfo is stops.tzinfo is None  # naive UTC, as Tapis
    assert abs(created - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=10)
    assert stops - started == timedelta(seconds=pod.time_to_stop_default)
    for line in t.pods.get_pod_logs(pod_id=execpod).action_logs:
        stamp, _, text = line.partition(": ")  # "24/03/18 11:36: pod created by ..."
        assert datetime.strptime(stamp, "%y/%m/%d %H:%M") and text, line
