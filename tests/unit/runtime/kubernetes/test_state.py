"""Pod objects as the API returns them -> ContainerState, and through health's observe() to
the pod status users see."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.common.runtime.types import ContainerState, Phase, PodKey
from services.spawner.platforms.kubernetes.state import has_started, pod_state

KEY = PodKey("dev", "web1")
STARTED = "2024-05-01T10:00:00Z"
FINISHED = "2024-05-01T10:05:00Z"


def pod(status: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "pods-prod-dev-web1",
            "annotations": {"org.pods-service.spec-hash": "h1"},
            **meta,
        },
        "status": status,
    }


def container(state: dict[str, Any], ready: bool = False, name: str = "main") -> dict[str, Any]:
    return {"name": name, "state": state, "ready": ready, "restartCount": 0}


def state_of(status: dict[str, Any], **meta: Any) -> ContainerState:
    return pod_state(KEY, pod(status, **meta))


def test_running_and_ready() -> None:
    state = state_of(
        {
            "phase": "Running",
            "containerStatuses": [container({"running": {"startedAt": STARTED}}, ready=True)],
        }
    )
    assert state == ContainerState(
        key=KEY,
        name="pods-prod-dev-web1",
        phase=Phase.RUNNING,
        spec_hash="h1",
        started_at=datetime(2024, 5, 1, 10, tzinfo=UTC),
        published={},
    )


def test_the_run_the_pod_was_made_to_start_is_read_from_its_annotation() -> None:
    annotations = {"org.pods-service.spec-hash": "h1", "org.pods-service.run": "2"}
    assert state_of({"phase": "Pending"}, annotations=annotations).run == 2
    assert state_of({"phase": "Pending"}).run == 0


def test_running_but_not_ready_yet_is_still_starting() -> None:
    state = state_of(
        {"phase": "Running", "containerStatuses": [container({"running": {"startedAt": STARTED}})]}
    )
    assert (state.phase, state.error) == (Phase.CREATED, "")


@pytest.mark.parametrize(
    ("reason", "message", "error"),
    [
        (
            "ImagePullBackOff",
            'Back-off pulling image "nope:1"',
            'ImagePullBackOff: Back-off pulling image "nope:1"',
        ),
        ("ErrImagePull", "", "ErrImagePull"),
        (
            "CrashLoopBackOff",
            "back-off 10s restarting failed container",
            "CrashLoopBackOff: back-off 10s restarting failed container",
        ),
        (
            "CreateContainerConfigError",
            'secret "x" not found',
            'CreateContainerConfigError: secret "x" not found',
        ),
    ],
)
def test_waiting_for_a_reason_that_will_not_pass_is_dead(
    reason: str, message: str, error: str
) -> None:
    waiting = {"reason": reason, "message": message} if message else {"reason": reason}
    state = state_of({"phase": "Pending", "containerStatuses": [container({"waiting": waiting})]})
    assert (state.phase, state.error, state.exit_code) == (Phase.DEAD, error, None)


def test_ordinary_waiting_is_starting() -> None:
    state = state_of(
        {
            "phase": "Pending",
            "containerStatuses": [container({"waiting": {"reason": "ContainerCreating"}})],
        }
    )
    assert (state.phase, state.error) == (Phase.CREATED, "")
    assert state_of({"phase": "Pending"}).phase is Phase.CREATED
    assert state_of({}).phase is Phase.CREATED


def test_unschedulable_is_dead_with_the_schedulers_message() -> None:
    state = state_of(
        {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.",
                }
            ],
        }
    )
    assert state.phase is Phase.DEAD
    assert state.error == "Unschedulable: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu."


def terminated(code: int, reason: str, **extra: Any) -> dict[str, Any]:
    return {
        "terminated": {
            "exitCode": code,
            "reason": reason,
            "startedAt": STARTED,
            "finishedAt": FINISHED,
            **extra,
        }
    }


@pytest.mark.parametrize(
    ("phase", "code", "reason", "error"),
    [
        ("Succeeded", 0, "Completed", ""),
        ("Failed", 1, "Error", ""),
        ("Failed", 137, "OOMKilled", "out of memory"),
        ("Failed", 128, "StartError", "StartError: exec: nope: not found"),
    ],
)
def test_terminated_containers_exit_with_their_code(
    phase: str, code: int, reason: str, error: str
) -> None:
    extra = {"message": "exec: nope: not found"} if reason == "StartError" else {}
    state = state_of(
        {"phase": phase, "containerStatuses": [container(terminated(code, reason, **extra))]}
    )
    assert state.phase is Phase.EXITED
    assert (state.exit_code, state.error) == (code, error)
    assert state.finished_at == datetime(2024, 5, 1, 10, 5, tzinfo=UTC)
    assert state.started_at == datetime(2024, 5, 1, 10, tzinfo=UTC)


def test_an_evicted_pod_says_so() -> None:
    state = state_of(
        {
            "phase": "Failed",
            "reason": "Evicted",
            "message": "The node was low on resource: memory.",
            "containerStatuses": [container(terminated(137, "Error"))],
        }
    )
    assert (state.phase, state.exit_code) == (Phase.EXITED, 137)
    assert state.error == "Evicted: The node was low on resource: memory."


def test_a_pod_that_failed_before_its_container_ran_is_dead() -> None:
    state = state_of(
        {"phase": "Failed", "reason": "OutOfcpu", "message": "Node didn't have enough cpu"}
    )
    assert (state.phase, state.error) == (Phase.DEAD, "OutOfcpu: Node didn't have enough cpu")


def test_unknown_phase_is_dead() -> None:
    assert state_of({"phase": "Unknown"}).phase is Phase.DEAD


def test_terminating_is_removing_whatever_the_container_does() -> None:
    state = state_of(
        {
            "phase": "Running",
            "containerStatuses": [container({"running": {"startedAt": STARTED}}, True)],
        },
        deletionTimestamp="2024-05-01T11:00:00Z",
    )
    assert state.phase is Phase.REMOVING


def test_the_main_container_is_found_by_name() -> None:
    statuses = [
        container({"waiting": {"reason": "ImagePullBackOff"}}, name="sidecar"),
        container({"running": {"startedAt": STARTED}}, ready=True),
    ]
    assert state_of({"phase": "Running", "containerStatuses": statuses}).phase is Phase.RUNNING


def test_has_started() -> None:
    assert not has_started(pod({"phase": "Pending"}))
    assert has_started(pod({"containerStatuses": [container({"running": {}})]}))
    assert has_started(pod({"containerStatuses": [container(terminated(0, "Completed"))]}))


def test_health_reports_a_pull_failure_as_error_with_the_reason() -> None:
    """The contract with services/health/observe.py: DEAD + error text -> ERROR + message."""
    from services.common.pods_model import (
        ContainerStatus,
        PodRecord,
        PodSpec,
        RequestedStatus,
        Status,
    )
    from services.health.observe import observe

    now = datetime(2024, 5, 1, tzinfo=UTC)
    record = PodRecord(
        key=KEY,
        owner="alice",
        spec=PodSpec(image="nope:1"),
        status_requested=RequestedStatus.ON,
        status=Status.CREATING,
        status_container=ContainerStatus(),
        generation=1,
        observed_generation=1,
        deletion_requested=False,
        has_credentials=False,
        action_logs=(),
        creation_ts=now,
        update_ts=now,
        status_changed_ts=now,
    )
    waiting = {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "nope:1"'}
    state = state_of({"phase": "Pending", "containerStatuses": [container({"waiting": waiting})]})
    observation = observe(record, state, ready=False)
    assert observation is not None
    assert observation.status is Status.ERROR
    assert observation.container.message == 'ImagePullBackOff: Back-off pulling image "nope:1"'
