"""Pod logs: what health reads from the runtime, appended as chunks per run (the newest
bytes kept), where its last read stopped, and what GetPodLogs returns.

Used by services/health/watcher.py (position, append, new run), services/api/domain/pods.py
(read) and repositories/pod_state.py (a restart starts a new run).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Delete, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from services.common.db.models import PodLogChunk, PodRow
from services.common.db.pod_rows import get_row
from services.common.db.sessions import Sessions
from services.common.log_window import BATCH_BYTES, LogWindow, log_window
from services.common.pods_model import Status
from services.common.runtime.types import PodKey


class LogRepository:
    """Log chunks and the read position of each pod."""

    def __init__(self, sessions: Sessions) -> None:
        self._session = sessions

    async def log_position(self, key: PodKey) -> tuple[int, str] | None:
        """The current log run and where its last read stopped; None if there is no pod."""
        async with self._session() as session:
            row = await get_row(session, key)
            return (row.log_run, row.log_cursor) if row else None

    async def running_positions(self) -> list[tuple[PodKey, int, str]]:
        """Every pod observed AVAILABLE (its container runs) with its log run and where its
        last read stopped, in one query: health's resync reads their new output."""
        query = select(PodRow.tenant_id, PodRow.pod_id, PodRow.log_run, PodRow.log_cursor).where(
            PodRow.status == Status.AVAILABLE.value
        )
        async with self._session() as session:
            rows = await session.execute(query.order_by(PodRow.id))
            return [(PodKey(t, p), run, cursor) for t, p, run, cursor in rows]

    async def append_logs(
        self,
        key: PodKey,
        text: str,
        *,
        run: int,
        after: str,
        cursor: str,
        limit_bytes: int,
    ) -> bool:
        """Appends output read from `after` up to `cursor` to `run`, and drops the run's
        oldest chunks beyond `limit_bytes`. Nothing is written (False) unless the pod is still
        at that run and cursor: a new run or another reader moved on meanwhile, and the next
        read starts from where they left it."""
        async with self._session.begin() as session:
            moved = await session.execute(
                update(PodRow)
                .where(
                    PodRow.tenant_id == key.tenant_id,
                    PodRow.pod_id == key.pod_id,
                    PodRow.log_run == run,
                    PodRow.log_cursor == after,
                )
                .values(log_cursor=cursor)
            )
            if not getattr(moved, "rowcount", 0):
                return False
            if text:
                session.add(
                    PodLogChunk(
                        tenant_id=key.tenant_id,
                        pod_id=key.pod_id,
                        run=run,
                        size=len(text.encode()),
                        data=text,
                    )
                )
                await session.flush()
                await self._trim_logs(session, key, run, limit_bytes)
            return True

    async def _trim_logs(self, session: Any, key: PodKey, run: int, limit_bytes: int) -> None:
        where = (*chunks_of(key), PodLogChunk.run == run)
        total = await session.scalar(
            select(func.coalesce(func.sum(PodLogChunk.size), 0)).where(*where)
        )
        if total <= limit_bytes:
            return
        chunks = (
            await session.execute(
                select(PodLogChunk.id, PodLogChunk.size).where(*where).order_by(PodLogChunk.id)
            )
        ).all()
        doomed: list[int] = []
        for chunk_id, size in chunks[:-1]:  # always keep the newest chunk
            if total <= limit_bytes:
                break
            doomed.append(chunk_id)
            total -= size
        if doomed:
            await session.execute(delete(PodLogChunk).where(PodLogChunk.id.in_(doomed)))

    async def read_logs(self, key: PodKey, limit_bytes: int, previous: int = 0) -> str:
        """The newest output of the current run (or of the run `previous` runs before it), at
        most `limit_bytes`. One read (Sessions.read); the chunks are joined once, and encoded
        and cut only when they hold more than `limit_bytes` (their sizes say so)."""

        def read(session: Session) -> str:
            db = session.connection()
            run = db.execute(LOG_RUN, {"tenant_id": key.tenant_id, "pod_id": key.pod_id})
            current = run.scalar()
            if current is None:
                return ""
            chunks = db.execute(
                LOG_CHUNKS,
                {"tenant_id": key.tenant_id, "pod_id": key.pod_id, "run": current - previous},
            ).all()
            text = "".join(data for data, _ in chunks)
            if sum(size for _, size in chunks) <= limit_bytes:
                return text
            return text.encode()[-limit_bytes:].decode(errors="ignore")

        return await self._session.read(read)

    async def log_window(
        self, key: PodKey, limit_bytes: int, previous: int = 0, batch_bytes: int = BATCH_BYTES
    ) -> LogWindow:
        """Where read_logs' answer lies, for reading it in batches (read_log_batch) without
        holding it all: the REST answer of GetPodLogs streams megabytes this way."""

        def read(session: Session) -> LogWindow:
            db = session.connection()
            names = {"tenant_id": key.tenant_id, "pod_id": key.pod_id}
            current = db.execute(LOG_RUN, names).scalar()
            if current is None:
                return LogWindow((), 0)
            sizes = db.execute(LOG_SIZES, {**names, "run": current - previous}).all()
            chunks = [(chunk_id, size) for chunk_id, size in sizes]
            return log_window(chunks, limit_bytes, batch_bytes)

        return await self._session.read(read)

    async def read_log_batch(self, key: PodKey, ids: Sequence[int]) -> list[tuple[int, str]]:
        """The key's chunks `ids` (id, data) in id order; chunks trimmed since the window was
        read are missing (their output is older than what a read now keeps)."""

        def read(session: Session) -> list[tuple[int, str]]:
            rows = session.connection().execute(
                LOG_BATCH, {"tenant_id": key.tenant_id, "pod_id": key.pod_id, "ids": list(ids)}
            )
            return [(chunk_id, data) for chunk_id, data in rows]

        return await self._session.read(read)

    async def start_log_run(self, key: PodKey, runs_kept: int) -> None:
        """A new container: its output starts a new run; only the newest `runs_kept` runs
        (this one included) are kept."""
        async with self._session.begin() as session:
            row = await get_row(session, key)
            if row is None:
                return
            await session.execute(new_log_run(row, runs_kept))


def new_log_run(row: PodRow, runs_kept: int) -> Delete:
    """Starts the pod's next log run on `row`; returns the statement, for the caller's
    transaction, that drops the runs older than the newest `runs_kept`."""
    row.log_run += 1
    row.log_cursor = ""
    key = PodKey(row.tenant_id, row.pod_id)
    return delete(PodLogChunk).where(*chunks_of(key), PodLogChunk.run <= row.log_run - runs_kept)


_PODS = PodRow.__table__
_CHUNKS = PodLogChunk.__table__
LOG_RUN = select(_PODS.c.log_run).where(
    _PODS.c.tenant_id == bindparam("tenant_id"), _PODS.c.pod_id == bindparam("pod_id")
)
LOG_CHUNKS = (
    select(_CHUNKS.c.data, _CHUNKS.c.size)
    .where(
        _CHUNKS.c.tenant_id == bindparam("tenant_id"),
        _CHUNKS.c.pod_id == bindparam("pod_id"),
        _CHUNKS.c.run == bindparam("run"),
    )
    .order_by(_CHUNKS.c.id)
)

LOG_SIZES = (
    select(_CHUNKS.c.id, _CHUNKS.c.size)
    .where(
        _CHUNKS.c.tenant_id == bindparam("tenant_id"),
        _CHUNKS.c.pod_id == bindparam("pod_id"),
        _CHUNKS.c.run == bindparam("run"),
    )
    .order_by(_CHUNKS.c.id)
)
LOG_BATCH = (
    select(_CHUNKS.c.id, _CHUNKS.c.data)
    .where(
        _CHUNKS.c.tenant_id == bindparam("tenant_id"),
        _CHUNKS.c.pod_id == bindparam("pod_id"),
        _CHUNKS.c.id.in_(bindparam("ids", expanding=True)),
    )
    .order_by(_CHUNKS.c.id)
)


def chunks_of(key: PodKey) -> tuple[Any, Any]:
    """The clause selecting the pod's log chunks."""
    return (PodLogChunk.tenant_id == key.tenant_id, PodLogChunk.pod_id == key.pod_id)
