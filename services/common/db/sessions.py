"""The database engine and its sessions, shared by every repository of a process.

`open_engine` makes the one engine of a process (SQLite via aiosqlite, or PostgreSQL via
asyncpg); `Sessions` opens read sessions and write transactions on it (BEGIN IMMEDIATE on
SQLite, rows read FOR UPDATE on PostgreSQL) and raises connection-level failures as
DatabaseUnavailableError, timing each in `pods_db_session_seconds` (services/common/metrics.py).
Used by services/common/db/database.py (which builds the
repositories) and by each repository in services/common/db/repositories.

`Sessions.read` runs a whole read (a sync function of a Session) in one go, for the calls every
request makes (a pod and the caller's grant on it; a pod's logs). On SQLite it takes one trip
to a reader thread with its own pysqlite connections to the same file, instead of the ~8 trips
between the event loop and aiosqlite's thread that an AsyncSession's BEGIN, execute, fetch,
close and rollback cost (issue 14: they were most of a GetPod's CPU). It reads the same
committed data as any other session: nothing is cached. `Sessions.write` is its twin for the
writes on a pod's way to AVAILABLE (health's record of what it observed): one trip to a
writer thread with its own connection, BEGIN IMMEDIATE and the same session hooks (the change
feed, the trace stamp) as every other write.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker

from services.common.db import trace_stamp  # noqa: F401  (registers its session hook)
from services.common.db.change_feed import RecordingSession
from services.common.db.unavailable import translated
from services.common.metrics import db_timed

WRITE = "pods_write"  # execution option and session info key of write transactions
READER_THREADS = 2  # SQLite: threads (and pooled connections) running Sessions.read
T = TypeVar("T")


def open_engine(url: str) -> AsyncEngine:
    """The engine for `url` (sqlite+aiosqlite:// or postgresql+asyncpg://)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        enable_sqlite_concurrency(engine)
        return engine
    return create_async_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)


def sqlite_twin(engine: AsyncEngine, connections: int) -> Engine | None:
    """A pysqlite engine of `connections` pooled connections on the same SQLite file as
    `engine` (None for PostgreSQL or an in-memory database, which another engine would not
    see), for Sessions.read and Sessions.write."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    twin = create_engine(
        url.set(drivername="sqlite+pysqlite"),
        connect_args={"timeout": 30, "check_same_thread": False},
        pool_size=connections,
        max_overflow=0,
    )
    enable_sqlite_concurrency(twin)
    return twin


def enable_sqlite_concurrency(engine: AsyncEngine | Engine) -> None:
    """WAL and a busy timeout let the api, spawner and health processes share one file.

    Transactions are begun by us, not by the driver: pysqlite would only begin one at the
    first write, so a read-modify-write (read the row, then update it) read outside the
    transaction and overwrote what another process wrote in between (a lost update). Write
    transactions begin IMMEDIATE, taking the write lock first (waiting up to busy_timeout);
    reads begin a plain deferred transaction (one consistent snapshot, no lock)."""

    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN from the driver
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
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
        self._reader = sqlite_twin(engine, READER_THREADS)
        self._reader_sessions = sessionmaker(self._reader, expire_on_commit=False)
        self._reader_threads = (
            ThreadPoolExecutor(READER_THREADS, thread_name_prefix="db-read")
            if self._reader is not None
            else None
        )
        self._write_twin = sqlite_twin(engine, 1)  # SQLite takes one writer at a time anyway
        twin = self._write_twin
        self._write_sessions = sessionmaker(
            twin.execution_options(**{WRITE: True}) if twin is not None else None,
            expire_on_commit=False,
            info={WRITE: True},
            class_=RecordingSession,
        )
        self._writer_thread = (
            ThreadPoolExecutor(1, thread_name_prefix="db-write") if twin is not None else None
        )

    async def read(self, work: Callable[[Session], T]) -> T:
        """`work(session)` in one read transaction, its result returned: on SQLite in one trip
        to a reader thread, elsewhere through an AsyncSession's run_sync (asyncpg needs no
        thread). `work` must only read, and must not keep ORM objects past its return."""
        with db_timed("read"), translated():
            if self._reader_threads is None:
                async with self._maker() as session:
                    return await session.run_sync(work)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._reader_threads, self._read_here, work)

    def _read_here(self, work: Callable[[Session], T]) -> T:
        with self._reader_sessions() as session:
            return work(session)

    async def write(self, work: Callable[[Session], T]) -> T:
        """`work(session)` in one write transaction, committed when it returns (rolled back
        if it raises), its result returned: on SQLite in one trip to the writer thread
        (BEGIN IMMEDIATE), elsewhere through a `begin()` session's run_sync (rows read FOR
        UPDATE). `work` must not keep ORM objects past its return."""
        with db_timed("write"), translated():
            if self._writer_thread is None:
                async with self._writer.begin() as session:
                    return await session.run_sync(work)
            loop = asyncio.get_running_loop()
            context = contextvars.copy_context()  # the caller's trace, for the trace stamp
            return await loop.run_in_executor(
                self._writer_thread, context.run, self._write_here, work
            )

    def _write_here(self, work: Callable[[Session], T]) -> T:
        with self._write_sessions.begin() as session:
            return work(session)

    def close(self) -> None:
        """Closes the SQLite reader's and writer's connections and threads (the engine is
        the caller's)."""
        for threads in (self._reader_threads, self._writer_thread):
            if threads is not None:
                threads.shutdown(wait=True)
        for twin in (self._reader, self._write_twin):
            if twin is not None:
                twin.dispose()

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
