"""The write on every pod's way to AVAILABLE (health's record of what it observed) takes one
trip to a writer thread on SQLite (Sessions.write): one BEGIN IMMEDIATE, the same change feed
row as any write, all or nothing, and the caller's trace context in the session hooks."""

from __future__ import annotations

import contextvars
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.common.db.database import Repositories
from services.common.db.models import PodRow
from services.common.pods_model import ContainerStatus, PodSpec, Status
from services.common.runtime.types import PodKey
from tests.integration.db.test_one_trip_reads import statements

NOW = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
KEY = PodKey("dev", "mypod")
CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="")
SERVING = ContainerStatus(phase="running", message="container is running", ready=True)


async def _create(store: Repositories) -> None:
    await store.pods.create_pod(
        KEY,
        owner="alice",
        spec=PodSpec(image="pods-http:latest"),
        credentials_encrypted=None,
        now=NOW,
    )


async def test_an_observation_is_one_write_transaction_on_the_writer_thread(
    store: Repositories,
) -> None:
    await _create(store)
    threads: list[str] = []
    with statements(threads, words=2) as words:
        assert await store.pod_state.record_observation(KEY, Status.AVAILABLE, SERVING, NOW)
    if store.engine.dialect.name == "sqlite":
        assert words.count("BEGIN IMMEDIATE") == 1, words
        assert all(thread.startswith("db-write") for thread in threads), threads
    assert any(word.startswith("INSERT") for word in words), words  # the change feed row
    changes = await store.changes.pod_changes(KEY, None)
    assert [(c.status, c.status_container.ready) for c in changes] == [(Status.AVAILABLE, True)]
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status is Status.AVAILABLE
    assert not await store.pod_state.record_observation(KEY, Status.AVAILABLE, SERVING, NOW)


async def test_a_write_that_raises_leaves_nothing_behind(store: Repositories) -> None:
    await _create(store)

    def half_then_fail(session: Session) -> None:
        session.execute(update(PodRow).values(status=Status.ERROR.value))
        raise ValueError("after the update")

    with pytest.raises(ValueError, match="after the update"):
        await store.sessions.write(half_then_fail)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status is Status.REQUESTED


async def test_the_write_sees_the_caller_s_context(store: Repositories) -> None:
    """The session hooks read the caller's context variables (the trace stamp reads the
    current trace from them), not the writer thread's empty ones."""
    await _create(store)
    token = CALLER.set("the caller's")

    def read_context(session: Session) -> str:
        assert session.scalar(select(PodRow.pod_id)) == KEY.pod_id
        return CALLER.get()

    try:
        assert await store.sessions.write(read_context) == "the caller's"
    finally:
        CALLER.reset(token)
