"""The pods health's incremental resync looks at (PodRepository.pods_in_motion) and the
running ones whose output it reads, on SQLite and PostgreSQL: a settled pod is left out until
its time_to_stop passes or the API asks for something."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.common.db.database import Repositories
from services.common.pods_model import ContainerStatus, PodSpec, RequestedStatus, Status
from services.common.restarts import RestartPolicy
from services.common.runtime.types import PodKey

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
KEY = PodKey("dev", "web")


async def test_a_settled_pod_is_in_motion_only_past_its_time_to_stop_or_when_asked(
    store: Repositories,
) -> None:
    await store.pods.create_pod(
        KEY, owner="alice", spec=PodSpec(image="img"), credentials_encrypted=None, now=NOW
    )
    assert [r.key for r in await store.pods.pods_in_motion(NOW)] == [KEY]  # REQUESTED
    await store.pod_state.mark_applied(KEY, 1, "created", NOW)
    running = ContainerStatus(phase="running", ready=True, start_time=NOW)
    await store.pod_state.record_observation(KEY, Status.AVAILABLE, running, NOW)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.time_to_stop_ts is not None
    assert await store.pods.pods_in_motion(NOW) == []
    position = await store.logs.log_position(KEY)
    assert position is not None
    assert await store.logs.running_positions() == [(KEY, *position)]
    later = pod.time_to_stop_ts + timedelta(seconds=1)
    assert [r.key for r in await store.pods.pods_in_motion(later)] == [KEY]
    await store.pods.set_requested(KEY, RequestedStatus.OFF, NOW, "stop")
    assert [r.key for r in await store.pods.pods_in_motion(NOW)] == [KEY]


async def test_an_on_pod_seen_ended_is_in_motion_until_that_run_s_end_is_recorded(
    store: Repositories,
) -> None:
    """Its container ended before the spawner recorded its run, so health could not count
    the end then; the resync looks again until it has (and not once the end is recorded, or
    a permanent failure is)."""
    await store.pods.create_pod(
        KEY, owner="alice", spec=PodSpec(image="img"), credentials_encrypted=None, now=NOW
    )
    exited = ContainerStatus(phase="exited", exit_code=3, start_time=NOW)
    await store.pod_state.record_observation(KEY, Status.ERROR, exited, NOW)
    await store.pod_state.mark_applied(KEY, 1, "created", NOW, runs_kept=3)
    assert [r.key for r in await store.pods.pods_in_motion(NOW)] == [KEY]
    policy = RestartPolicy(base=10, cap=10, reset_after=600)
    reason = "container exited with code 3"
    due = await store.pod_state.record_exit(
        KEY, run=1, reason=reason, run_seconds=0.1, policy=policy, now=NOW
    )
    assert due is not None
    assert await store.pod_state.mark_restarted(KEY, 1, "created", 3, NOW)
    assert [r.key for r in await store.pods.pods_in_motion(NOW)] == [KEY]  # run 2, seen ERROR
    await store.pod_state.mark_failed(KEY, 1, "image vanished", NOW)
    assert await store.pods.pods_in_motion(NOW) == []
