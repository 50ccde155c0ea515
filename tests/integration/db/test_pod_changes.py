"""The pod change feed (services/common/db/change_feed.py and repositories/pod_changes.py), on
SQLite and PostgreSQL: every change a watcher sees is recorded once, in commit order, by
whichever repository writes it; a write that changes nothing a watcher sees records nothing;
reads after a cursor, per pod and per tenant; a pod's changes go with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.common.db import change_feed
from services.common.db.database import Repositories
from services.common.pods_model import ContainerStatus, Level, PodSpec, RequestedStatus, Status
from services.common.runtime.types import PodKey

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
KEY = PodKey("dev", "web")


async def _create(store: Repositories, key: PodKey = KEY) -> None:
    await store.pods.create_pod(
        key,
        owner="alice",
        spec=PodSpec(image="pods-http:latest"),
        credentials_encrypted=None,
        now=NOW,
    )


async def _statuses(store: Repositories, after: int | None = None) -> list[str]:
    changes = await store.changes.pod_changes(KEY, after)
    return [c.status.value for c in changes]


async def test_each_recorded_status_is_a_change_in_order_whoever_writes_it(
    store: Repositories,
) -> None:
    await _create(store)  # the api: REQUESTED
    first = (await store.changes.pod_changes(KEY, None))[0]
    await store.pod_state.mark_applied(KEY, 1, "created", NOW)  # the spawner: CREATING
    running = ContainerStatus(phase="running", ready=True)
    await store.pod_state.record_observation(KEY, Status.AVAILABLE, running, NOW)  # health
    assert first.status is Status.REQUESTED
    assert await _statuses(store, first.change_id) == ["CREATING", "AVAILABLE"]
    assert await _statuses(store) == ["AVAILABLE"]  # no cursor: the present alone


async def test_a_write_that_changes_nothing_watched_records_nothing(store: Repositories) -> None:
    await _create(store)
    running = ContainerStatus(phase="running", ready=True)
    await store.pod_state.record_observation(KEY, Status.AVAILABLE, running, NOW)
    (latest,) = await store.changes.pod_changes(KEY, None)
    await store.pod_state.record_observation(KEY, Status.AVAILABLE, running, NOW)
    assert await store.changes.pod_changes(KEY, latest.change_id) == []


async def test_a_new_desired_state_and_its_action_line_are_a_change(store: Repositories) -> None:
    await _create(store)
    (created,) = await store.changes.pod_changes(KEY, None)
    later = NOW + timedelta(seconds=5)
    await store.pods.set_requested(KEY, RequestedStatus.OFF, later, "stop requested")
    (stopped,) = await store.changes.pod_changes(KEY, created.change_id)
    assert stopped.status_requested is RequestedStatus.OFF
    assert stopped.action_log.endswith("stop requested") and stopped.time == later


async def test_a_cursor_no_longer_kept_starts_from_the_present(store: Repositories) -> None:
    await _create(store)
    assert await _statuses(store, 987654) == ["REQUESTED"]


async def test_only_the_newest_changes_of_a_pod_are_kept(store: Repositories) -> None:
    await _create(store)
    for n in range(change_feed.KEEP + 5):
        phase = ContainerStatus(phase="running", message=f"tick {n}")
        await store.pod_state.record_observation(KEY, Status.CREATING, phase, NOW)
    (latest,) = await store.changes.pod_changes(KEY, None)
    kept = await store.changes.changes_of("dev", ["web"], 0)
    assert len(kept) <= change_feed.KEEP + 1 and kept[-1] == latest


async def test_tenant_reads_after_a_cursor_and_a_removed_pod_takes_its_changes(
    store: Repositories,
) -> None:
    start = await store.changes.last_change_id("dev")
    await _create(store)
    await _create(store, PodKey("dev", "db"))
    await _create(store, PodKey("other", "web"))
    mine = await store.changes.tenant_changes("dev", start)
    assert [c.key.pod_id for c in mine] == ["web", "db"]
    latest = await store.changes.latest_changes("dev", ["web", "db"])
    assert [c.key.pod_id for c in latest] == ["web", "db"]
    await store.pod_state.remove_pod(KEY)
    assert await store.changes.changes_of("dev", ["web"], 0) == []


async def test_a_readers_tenant_changes_are_those_of_the_pods_they_may_read_now(
    store: Repositories,
) -> None:
    start = await store.changes.last_change_id("dev")
    await _create(store)  # alice's
    await store.pods.create_pod(
        PodKey("dev", "bobs"),
        owner="bob",
        spec=PodSpec(image="pods-http:latest"),
        credentials_encrypted=None,
        now=NOW,
    )
    assert [c.key.pod_id for c in await store.changes.tenant_changes("dev", start, "bob")] == [
        "bobs"
    ]
    await store.grants.set_permission(KEY, "bob", Level.READ)
    shared = await store.changes.tenant_changes("dev", start, "bob")
    assert [c.key.pod_id for c in shared] == ["web", "bobs"]
    everything = await store.changes.tenant_changes("dev", start, None)
    assert [c.key.pod_id for c in everything] == ["web", "bobs"]


async def test_the_readable_mark_moves_with_grants_revocations_and_removals(
    store: Repositories,
) -> None:
    await _create(store)
    marks = [await store.pods.readable_mark("dev", "bob")]
    await store.grants.set_permission(KEY, "bob", Level.READ)
    marks.append(await store.pods.readable_mark("dev", "bob"))
    assert await store.pods.readable_ids("dev", "bob") == ["web"]
    await store.grants.delete_permission(KEY, "bob")
    marks.append(await store.pods.readable_mark("dev", "bob"))
    assert await store.pods.readable_ids("dev", "bob") == []
    admin = await store.pods.readable_mark("dev", None)
    await store.pod_state.remove_pod(KEY)
    assert await store.pods.readable_mark("dev", None) != admin
    assert marks[0] != marks[1] != marks[2]
