"""The reads every call on one pod makes (Sessions.read: the pod and the caller's grant, the
pod alone as the spawner and health read it, the pod's logs, the owner's quota row before a
create) take one query each, in one trip to a reader thread on SQLite, on the same committed
data as any other session: nothing is cached, so a revoked grant or a deleted pod is refused
by the very next call, whichever process wrote it. A watcher's reads of the recorded changes
are one trip each too."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from services.common.db import quotas
from services.common.db.database import Repositories
from services.common.db.migrate import upgrade_async
from services.common.pods_model import Level, PodSpec, RequestedStatus
from services.common.runtime.types import PodKey

NOW = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
KEY = PodKey("dev", "mypod")


@contextmanager
def statements(threads: list[str] | None = None, words: int = 1) -> Iterator[list[str]]:
    """The SQL statements (their first `words` words) any engine of this process runs inside
    the block (and in `threads` the names of the threads that ran them)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()[:words]).upper())
        if threads is not None:
            threads.append(threading.current_thread().name)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def _create(store: Repositories) -> None:
    await store.pods.create_pod(
        KEY,
        owner="alice",
        spec=PodSpec(image="pods-http:latest"),
        credentials_encrypted=None,
        now=NOW,
    )


async def test_a_pod_and_a_grant_are_one_select(store: Repositories) -> None:
    await _create(store)
    await store.grants.set_permission(KEY, "bob", Level.READ)
    with statements() as seen:
        found = await store.pods.pod_and_level(KEY, "bob")
    assert found is not None and found[1] is Level.READ
    assert [s for s in seen if s == "SELECT"] == ["SELECT"]


async def test_the_pod_alone_is_one_select_in_one_trip_to_a_reader_thread(
    store: Repositories,
) -> None:
    await _create(store)
    threads: list[str] = []
    with statements(threads) as seen:
        found = await store.pods.get_pod(KEY)
    assert found is not None and found.key == KEY and found.owner == "alice"
    assert [s for s in seen if s == "SELECT"] == ["SELECT"]
    if store.engine.dialect.name == "sqlite":  # on a reader thread, not in an AsyncSession
        assert all(t.startswith("db-read") for t in threads), threads
    assert await store.pods.get_pod(PodKey("dev", "nosuchpod")) is None


async def test_an_existing_quota_row_is_found_in_one_trip_and_nothing_is_written(
    store: Repositories,
) -> None:
    await quotas.ensure_row(store.sessions, "dev", "alice")  # made: the first create's
    threads: list[str] = []
    with statements(threads) as seen:
        await quotas.ensure_row(store.sessions, "dev", "alice")  # every later create's
    assert [s for s in seen if s in ("SELECT", "INSERT", "UPDATE")] == ["SELECT"]
    if store.engine.dialect.name == "sqlite":  # on a reader thread, not in an AsyncSession
        assert all(t.startswith("db-read") for t in threads), threads


async def test_a_watcher_s_reads_of_changes_run_in_one_trip_each_on_a_reader_thread(
    store: Repositories,
) -> None:
    """A watcher reads the changes after every wake-up: on the path from a recorded change
    to the client waiting for it (watch.py)."""
    await _create(store)
    await store.pods.set_requested(KEY, RequestedStatus.OFF, NOW, "stop")
    threads: list[str] = []
    with statements(threads) as seen:
        latest = await store.changes.pod_changes(KEY, None)
        newest = latest[-1].change_id
        every = await store.changes.tenant_changes("dev", 0)
        after_first = await store.changes.pod_changes(KEY, every[0].change_id)
        of_pod = await store.changes.changes_of("dev", ["mypod"], 0)
        latest_of = await store.changes.latest_changes("dev", ["mypod"])
        last = await store.changes.last_change_id("dev")
    assert len(latest) == 1 and latest[0].status_requested is RequestedStatus.OFF
    assert [c.change_id for c in every] == [c.change_id for c in of_pod]
    assert len(every) == 2 and every[-1].change_id == newest == last
    assert [c.change_id for c in after_first] == [newest]
    assert [c.change_id for c in latest_of] == [newest]
    assert set(seen) <= {"SELECT", "BEGIN", "ROLLBACK", "COMMIT"}, seen
    if store.engine.dialect.name == "sqlite":  # on a reader thread, not in an AsyncSession
        assert all(t.startswith("db-read") for t in threads), threads


async def test_a_revoked_grant_and_a_deleted_pod_show_at_the_next_read(
    store: Repositories,
) -> None:
    await _create(store)
    await store.grants.set_permission(KEY, "bob", Level.USER)
    found = await store.pods.pod_and_level(KEY, "bob")
    assert found is not None and found[1] is Level.USER
    await store.grants.set_permission(KEY, "bob", Level.READ)
    found = await store.pods.pod_and_level(KEY, "bob")
    assert found is not None and found[1] is Level.READ
    assert await store.grants.delete_permission(KEY, "bob")
    found = await store.pods.pod_and_level(KEY, "bob")
    assert found is not None and found[1] is None
    await store.pod_state.remove_pod(KEY)
    assert await store.pods.pod_and_level(KEY, "alice") is None


async def test_what_another_process_writes_is_read_at_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'pods.db'}"
    await upgrade_async(url)
    api, other = Repositories.open(url), Repositories.open(url)  # two processes' engines
    try:
        await _create(other)
        assert await api.pods.pod_and_level(KEY, "bob") == (await api.pods.get_pod(KEY), None)
        await other.grants.set_permission(KEY, "bob", Level.READ)
        found = await api.pods.pod_and_level(KEY, "bob")
        assert found is not None and found[1] is Level.READ
        await other.grants.delete_permission(KEY, "bob")
        found = await api.pods.pod_and_level(KEY, "bob")
        assert found is not None and found[1] is None
        deleting = await other.pods.request_deletion(KEY, NOW)
        assert deleting is not None
        changes = await api.changes.pod_changes(KEY, None)  # what a woken watcher reads
        assert [c.status.value for c in changes] == ["DELETING"]
        found_pod = await api.pods.get_pod(KEY)
        assert found_pod is not None and found_pod.deletion_requested
        await other.pod_state.remove_pod(KEY)
        assert await api.pods.pod_and_level(KEY, "alice") is None
        assert await api.pods.get_pod(KEY) is None
    finally:
        await api.close()
        await other.close()


@pytest.mark.parametrize("limit", [10, 1000])
async def test_logs_are_read_whole_or_cut_to_the_limit(store: Repositories, limit: int) -> None:
    await _create(store)
    run, cursor = await store.logs.log_position(KEY) or (0, "")
    text = "héllo wörld\n" * 20  # 14 bytes a line, 280 in all
    assert await store.logs.append_logs(
        KEY, text, run=run, after=cursor, cursor="c1", limit_bytes=10_000
    )
    expected = text.encode()[-limit:].decode(errors="ignore")
    assert await store.logs.read_logs(KEY, limit) == expected
    assert await store.logs.read_logs(PodKey("dev", "nosuchpod"), limit) == ""


@pytest.mark.parametrize("batch_bytes", [1, 20, 10_000])
@pytest.mark.parametrize("limit", [10, 100, 1000])
async def test_logs_read_a_batch_at_a_time_join_to_the_whole_read(
    store: Repositories, limit: int, batch_bytes: int
) -> None:
    await _create(store)
    run, cursor = await store.logs.log_position(KEY) or (0, "")
    for number in range(8):  # eight chunks of 42 bytes, cuts falling inside a character
        after, cursor = cursor, f"c{number}"
        text = f"chunk {number}: héllo wörld, 漢字\n"
        assert await store.logs.append_logs(
            KEY, text, run=run, after=after, cursor=cursor, limit_bytes=10_000
        )
    window = await store.logs.log_window(KEY, limit, batch_bytes=batch_bytes)
    pieces = [
        data for batch in window.batches for _, data in await store.logs.read_log_batch(KEY, batch)
    ]
    first = pieces[0].encode()[window.skip_bytes :].decode(errors="ignore")
    assert first + "".join(pieces[1:]) == await store.logs.read_logs(KEY, limit)
    if batch_bytes < 42:
        assert all(len(batch) == 1 for batch in window.batches)
    other = await store.logs.log_window(PodKey("dev", "nosuchpod"), limit)
    assert other.batches == ()


async def test_listing_every_pod_decodes_only_what_changed_and_sees_every_change(
    store: Repositories,
) -> None:
    await _create(store)
    other = PodKey("dev", "other")
    await store.pods.create_pod(
        other,
        owner="bob",
        spec=PodSpec(image="pods-http:latest", description='ünïcode "quoted"'),
        credentials_encrypted=None,
        now=NOW,
    )
    first = {r.key: r for r in await store.pods.list_all_pods()}
    assert first[other].spec.description == 'ünïcode "quoted"'
    await store.pods.set_requested(KEY, RequestedStatus.OFF, NOW, "stop")
    second = {r.key: r for r in await store.pods.list_all_pods()}
    assert second[other] is first[other]  # unchanged row: the same record, not decoded again
    assert second[KEY] is not first[KEY]
    assert second[KEY].status_requested is RequestedStatus.OFF
    assert second[KEY].action_logs[-1].endswith("stop")
    assert second[KEY] == await store.pods.get_pod(KEY)
    assert second[other] == await store.pods.get_pod(other)
    await store.pod_state.remove_pod(other)
    assert [r.key for r in await store.pods.list_all_pods()] == [KEY]
