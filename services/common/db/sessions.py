"""The database engine and its sessions, shared by every repository of a process.

`open_engine` makes the one engine of a process (SQLite via aiosqlite, or PostgreSQL via
asyncpg); `Sessions` opens read sessions and write transactions on it (BEGIN IMMEDIATE on
SQLite, rows read FOR UPDATE on PostgreSQL) and raises connection-level failures as
DatabaseUnavailableError, timing each in `pods_db_session_seconds` (services/common/metrics.py).
Used by services/common/db/database.py (which builds the
repositories) and by each repository in services/common/db/repositories.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from services.common.db import trace_stamp  # noqa: F401  (registers its session hook)
from services.common.db.change_feed import RecordingSession
from services.common.db.unavailable import translated
from services.common.metrics import db_timed

WRITE = "pods_write"  # execution option and session info key of write transactions


def open_engine(url: str) -> AsyncEngine:
    """The engine for `url` (sqlite+aiosqlite:// or postgresql+asyncpg://)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        enable_sqlite_concurrency(engine)
        return engine
    return create_async_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)


def enable_sqlite_concurrency(engine: AsyncEngine) -> None:
    """WAL and a busy timeout let the api, spawner and health processes share one file.

    Transactions are begun by us, not by the driver: pysqlite would only begin one at the
    first write, so a read-modify-write (read the row, then update it) read outside the
    transaction and overwrote what another process wrote in between (a lost update). Write
    transactions begin IMMEDIATE, taking the write lock first (waiting up to busy_timeout);
    reads begin a plain deferred transaction (one consistent snapshot, no lock)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN from the driver
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Sessions:
    """Opens sessions like an async_sessionmaker (`()` to read, `.begin()` for a transaction),
    with connection-level failures anywhere in the block raised as DatabaseUnavailableError:
    the one place where the repositories translate them."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._maker = async_sessionmaker(
            engine, expire_on_commit=False, sync_session_class=RecordingSession
        )
        writer = engine.execution_options(**{WRITE: True})
        self._writer = async_sessionmaker(
            writer,
            expire_on_commit=False,
            info={WRITE: True},
            sync_session_class=RecordingSession,
        )

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        with db_timed("read"), translated():
            async with self._maker() as session:
                yield session

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: on SQLite it holds the write lock from its start, and pod rows
        read in it are locked (FOR UPDATE) on PostgreSQL, so read-modify-write is safe."""
        with db_timed("write"), translated():
            async with self._writer.begin() as session:
                yield session
