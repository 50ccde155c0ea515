"""The pods health's incremental resync looks at (PodRepository.pods_in_motion) and the
running ones whose output it reads, on SQLite and PostgreSQL: a settled pod is left out until
its time_to_stop passes or the API asks for something."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.common.db.database import Repositories
from services.common.pods_model import ContainerStatus, PodSpec, RequestedStatus, Status
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
