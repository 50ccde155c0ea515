"""The repositories against a database that goes away: a private PostgreSQL stopped and started, and a
SQLite file on a disk that turns read-only or fills up. Connection-level failures leave the
store as DatabaseUnavailableError (never a raw driver error), nothing is half written, and the
same repositories work again once the database is back, without being reopened."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.common.db.database import Repositories
from services.common.db.migrate import upgrade_async
from services.common.outcomes import DatabaseUnavailableError
from services.common.pods_model import PodSpec
from services.common.runtime.types import PodKey
from tests.faults.conftest import remount
from tests.faults.private_postgres import PrivatePostgres

pytestmark = [pytest.mark.faults]
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


async def _create(store: Repositories, pod_id: str) -> None:
    await store.pods.create_pod(
        PodKey("dev", pod_id),
        owner="alice",
        spec=PodSpec(image="pods-http:latest", description=f"pod {pod_id}"),
        credentials_encrypted=None,
        now=NOW,
    )


async def test_a_stopped_postgres_is_unavailable_and_the_store_recovers_by_itself(
    private_pg: PrivatePostgres,
) -> None:
    await upgrade_async(private_pg.url)
    store = Repositories.open(private_pg.url)
    try:
        await _create(store, "before")
        await store.ping()

        private_pg.stop()
        with pytest.raises(DatabaseUnavailableError, match="database is unavailable"):
            await store.pods.get_pod(PodKey("dev", "before"))
        with pytest.raises(DatabaseUnavailableError, match="try again shortly"):
            await _create(store, "during")
        with pytest.raises(DatabaseUnavailableError):
            await store.ping()

        private_pg.start()
        await store.ping()
        await _create(store, "after")
        pods = {p.key.pod_id: p for p in await store.pods.list_pods("dev")}
        assert sorted(pods) == ["after", "before"]
        assert await store.grants.permissions(PodKey("dev", "after")) != []
    finally:
        await store.close()


async def test_postgres_stopped_in_the_middle_of_held_connections_is_unavailable(
    private_pg: PrivatePostgres,
) -> None:
    await upgrade_async(private_pg.url)
    store = Repositories.open(private_pg.url)
    try:
        await _create(store, "one")  # the pool now holds an open connection
        private_pg.stop("immediate")
        with pytest.raises(DatabaseUnavailableError):
            await store.pods.list_pods("dev")
        private_pg.start()
        assert [p.key.pod_id for p in await store.pods.list_pods("dev")] == ["one"]
    finally:
        await store.close()


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


async def test_sqlite_on_a_read_only_disk_is_unavailable_and_not_corrupted(
    small_tmpfs: Path,
) -> None:
    db = small_tmpfs / "pods.db"
    url = f"sqlite+aiosqlite:///{db}"
    await upgrade_async(url)
    store = Repositories.open(url)
    await _create(store, "before")
    await store.close()  # a busy mount cannot turn read-only: restart on the read-only disk
    remount(small_tmpfs, "ro")
    store = Repositories.open(url)
    try:
        with pytest.raises(DatabaseUnavailableError, match="database is unavailable"):
            await _create(store, "during")
        remount(small_tmpfs, "rw")
        await _create(store, "after")
        assert [p.key.pod_id for p in await store.pods.list_pods("dev")] == ["after", "before"]
    finally:
        await store.close()
    assert _integrity(db) == "ok"


async def test_sqlite_on_a_full_disk_is_unavailable_and_not_corrupted(small_tmpfs: Path) -> None:
    db = small_tmpfs / "pods.db"
    url = f"sqlite+aiosqlite:///{db}"
    await upgrade_async(url)
    store = Repositories.open(url)
    filler = small_tmpfs / "filler"
    try:
        await _create(store, "before")
        # Fill the disk to the last byte, unbuffered: nothing is left over for close to write
        # (a buffered file raises ENOSPC again on close whenever the last write was partial).
        with filler.open("wb", buffering=0) as out:
            try:
                while out.write(b"\0" * 65536):
                    pass
            except OSError:
                pass
        with pytest.raises(DatabaseUnavailableError, match="database is unavailable"):
            for n in range(200):  # the WAL may have room for a few pages; fill it up
                await _create(store, f"during{n}")
        filler.unlink()
        await _create(store, "after")
        ids = {p.key.pod_id for p in await store.pods.list_pods("dev")}
        assert {"before", "after"} <= ids
        for pod in await store.pods.list_pods("dev"):  # whatever was written is whole
            assert pod.spec.description == f"pod {pod.key.pod_id}"
            assert await store.grants.permissions(pod.key) != []
    finally:
        await store.close()
    assert _integrity(db) == "ok"
