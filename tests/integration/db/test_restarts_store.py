"""The repositories' restart bookkeeping and permanent failures, on SQLite and PostgreSQL: an end is
recorded once per run, a restart counted once, a permanent failure written once and marked
observed, and a user's change forgets a pending restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.common.db.database import Repositories
from services.common.pods_model import PodRecord, PodSpec, RequestedStatus, Status
from services.common.restarts import RestartPolicy
from services.common.runtime.types import PodKey

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
KEY = PodKey("dev", "mypod")
POLICY = RestartPolicy(base=10, cap=40, reset_after=600)


async def _running(store: Repositories) -> PodRecord:
    """A pod whose first container was made and applied (run 1)."""
    await store.pods.create_pod(
        KEY,
        owner="alice",
        spec=PodSpec(image="pods-http:latest"),
        credentials_encrypted=None,
        now=NOW,
    )
    await store.logs.start_log_run(KEY, 3)
    await store.pod_state.mark_applied(KEY, 1, "created", NOW)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.run == 1
    return pod


async def _exit(store: Repositories, run: int, at: datetime, seconds: float = 5) -> datetime | None:
    return await store.pod_state.record_exit(
        KEY,
        run=run,
        reason="container exited with code 3",
        run_seconds=seconds,
        policy=POLICY,
        now=at,
    )


async def _lines(store: Repositories, text: str) -> list[str]:
    pod = await store.pods.get_pod(KEY)
    assert pod is not None
    return [line for line in pod.action_logs if text in line]


async def test_an_end_is_recorded_once_per_run_and_its_restart_counted_once(
    store: Repositories,
) -> None:
    await _running(store)
    assert await _exit(store, 1, NOW) == NOW  # the first restart of a streak is at once
    assert await _exit(store, 1, NOW + timedelta(seconds=1)) is None  # a replayed observation
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.restart_pending and pod.restart_due_ts == NOW
    assert pod.last_exit_reason == "container exited with code 3" and pod.crash_streak == 1
    assert await _lines(store, "restart 1 in 0 s") != []

    assert await store.pod_state.mark_restarted(KEY, 1, "created", 3, NOW)
    assert not await store.pod_state.mark_restarted(KEY, 1, "created", 3, NOW)  # replayed
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.restart_count == 1 and pod.run == 2
    assert not pod.restart_pending and pod.restart_due_ts is None
    assert len(await _lines(store, "(restart 1)")) == 1

    later = NOW + timedelta(seconds=30)
    assert await _exit(store, 2, later) == later + timedelta(seconds=10)  # second in a row
    assert await _lines(store, "restart 2 in 10 s") != []


async def test_a_long_run_starts_a_new_streak(store: Repositories) -> None:
    await _running(store)
    await _exit(store, 1, NOW)
    await store.pod_state.mark_restarted(KEY, 1, "created", 3, NOW)
    assert await _exit(store, 2, NOW, seconds=600) == NOW
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.crash_streak == 1


async def test_no_end_is_recorded_for_another_run_or_a_pod_not_on_or_not_applied(
    store: Repositories,
) -> None:
    await _running(store)
    assert await _exit(store, 0, NOW) is None  # the spawner has moved on to run 1
    await store.pods.set_requested(KEY, RequestedStatus.OFF, NOW, "stop")
    assert await _exit(store, 1, NOW) is None
    await store.pods.set_requested(KEY, RequestedStatus.ON, NOW, "start")
    assert await _exit(store, 1, NOW) is None  # generation 3 not applied yet
    await store.pod_state.mark_applied(KEY, 3, "adopted", NOW)
    assert await _exit(store, 1, NOW) == NOW


async def test_a_users_start_forgets_a_pending_restart(store: Repositories) -> None:
    await _running(store)
    await _exit(store, 1, NOW)
    await store.pods.set_requested(KEY, RequestedStatus.ON, NOW, "start")
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and not pod.restart_pending and pod.crash_streak == 0
    assert not await store.pod_state.mark_restarted(KEY, 1, "created", 3, NOW)


async def test_a_permanent_failure_is_written_once_and_its_generation_observed(
    store: Repositories,
) -> None:
    await store.pods.create_pod(
        KEY, owner="alice", spec=PodSpec(image="ghost:1"), credentials_encrypted=None, now=NOW
    )
    for _ in range(3):  # the same generation failing again (a replayed command)
        await store.pod_state.mark_failed(KEY, 1, "image 'ghost:1' is not available", NOW)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status is Status.ERROR
    assert pod.observed_generation == pod.generation == 1
    assert len(await _lines(store, ": error: ")) == 1

    await store.pods.set_requested(KEY, RequestedStatus.ON, NOW, "start")  # a user's change
    await store.pod_state.mark_failed(KEY, 2, "image 'ghost:1' is not available", NOW)
    await store.pod_state.mark_failed(KEY, 2, "image 'ghost:1' is not available", NOW)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.observed_generation == 2
    assert len(await _lines(store, ": error: ")) == 2


async def test_a_permanent_failure_during_a_restart_ends_the_restarts(store: Repositories) -> None:
    await _running(store)
    await _exit(store, 1, NOW)
    await store.pod_state.mark_failed(KEY, 1, "image 'pods-http:latest' is not available", NOW)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status is Status.ERROR and not pod.restart_pending
    assert await _exit(store, 1, NOW) is None


async def test_a_failed_restart_request_goes_back_to_on(store: Repositories) -> None:
    await _running(store)
    await store.pods.set_requested(KEY, RequestedStatus.RESTART, NOW, "restart")
    await store.pod_state.mark_failed(KEY, 2, "image gone", NOW)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status_requested is RequestedStatus.ON
    assert pod.observed_generation == 2
