"""Observed status follows the container's phase and the readiness probe."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from services.common.pods_model import (
    ContainerStatus,
    PodRecord,
    PodSpec,
    RequestedStatus,
    Status,
)
from services.common.runtime.types import ContainerState, Phase, PodKey
from services.health.observe import observe, run_end

NOW = datetime(2026, 11, 28, tzinfo=UTC)
KEY = PodKey("dev", "web1")
RECORD = PodRecord(
    key=KEY,
    owner="alice",
    spec=PodSpec(image="pods-http:latest"),
    status_requested=RequestedStatus.ON,
    status=Status.CREATING,
    status_container=ContainerStatus(),
    generation=1,
    observed_generation=1,
    deletion_requested=False,
    has_credentials=False,
    action_logs=(),
    creation_ts=NOW,
    update_ts=NOW,
    status_changed_ts=NOW,
)


def state(phase: Phase, **kw: object) -> ContainerState:
    return ContainerState(key=KEY, name="c", phase=phase, **kw)  # type: ignore[arg-type]


def test_running_and_answering_is_available() -> None:
    result = observe(RECORD, state(Phase.RUNNING, started_at=NOW), ready=True)
    assert result is not None and result.status is Status.AVAILABLE
    assert result.container.ready and result.container.start_time == NOW


def test_running_but_not_answering_is_still_creating() -> None:
    result = observe(RECORD, state(Phase.RUNNING), ready=False)
    assert result is not None and result.status is Status.CREATING


def test_exit_zero_is_complete_and_nonzero_is_error_with_the_code() -> None:
    done = observe(RECORD, state(Phase.EXITED, exit_code=0), ready=False)
    failed = observe(RECORD, state(Phase.EXITED, exit_code=3, error="boom"), ready=False)
    assert done is not None and done.status is Status.COMPLETE
    assert failed is not None and failed.status is Status.ERROR
    assert "code 3" in failed.container.message and "boom" in failed.container.message


def test_a_pod_being_deleted_is_left_alone() -> None:
    assert observe(replace(RECORD, deletion_requested=True), state(Phase.RUNNING), True) is None


def test_no_container_yet_waits_for_the_spawner() -> None:
    waiting = replace(RECORD, status=Status.REQUESTED, observed_generation=0)
    assert observe(waiting, None, ready=False) is None


def test_a_vanished_container_is_requested_again() -> None:
    result = observe(replace(RECORD, status=Status.AVAILABLE), None, ready=False)
    assert result is not None and result.status is Status.REQUESTED


def test_a_pod_that_failed_for_good_without_container_stays_errored() -> None:
    failed = replace(RECORD, status=Status.ERROR, run=2, ended_run=2)
    assert observe(failed, None, ready=False) is None


def test_a_pod_asked_to_stop_is_deleting_until_its_container_is_gone() -> None:
    stopping = replace(RECORD, status_requested=RequestedStatus.OFF)
    deleting = observe(stopping, state(Phase.RUNNING), ready=True)
    stopped = observe(stopping, None, ready=False)
    assert deleting is not None and deleting.status is Status.DELETING
    assert stopped is not None and stopped.status is Status.STOPPED


def test_a_container_whose_start_failed_is_an_error_with_the_engines_reason() -> None:
    failed = state(Phase.CREATED, exit_code=127, error="exec: /no/such/binary: not found")
    result = observe(replace(RECORD, status=Status.ERROR), failed, ready=False)
    assert result is not None and result.status is Status.ERROR
    assert "/no/such/binary" in result.container.message


def test_a_container_whose_run_the_spawner_has_not_recorded_is_creating_however_it_answers() -> (
    None
):
    # The engine started it; the spawner records its run right after. Until then the pod's
    # run, logs and status are its previous container's.
    new = state(Phase.RUNNING, started_at=NOW, run=2)
    result = observe(replace(RECORD, run=1), new, ready=True)
    assert result is not None and result.status is Status.CREATING
    assert result.container.ready  # the probe's answer is kept; only the status waits
    recorded = observe(replace(RECORD, run=2), new, ready=True)
    assert recorded is not None and recorded.status is Status.AVAILABLE


def test_a_container_without_a_run_label_counts_as_recorded() -> None:
    # Containers made before runs were labelled (run 0) keep being observed as before.
    result = observe(replace(RECORD, run=3), state(Phase.RUNNING, run=0), ready=True)
    assert result is not None and result.status is Status.AVAILABLE


def test_the_end_of_a_container_whose_run_is_not_recorded_is_not_the_pods_runs_end() -> None:
    ended = state(Phase.EXITED, exit_code=1, started_at=NOW, finished_at=NOW, run=2)
    assert run_end(replace(RECORD, run=1), ended, NOW) is None
    assert run_end(replace(RECORD, run=2), ended, NOW) is not None
