"""The recorded changes of pods (the pod_changes table, written by
services/common/db/change_feed.py), read in order after a cursor.

Used by services/api/domain/pods.py (through the PodChangeStore Protocol of
services/api/domain/ports.py) for the watch streams of services/api/domain/watch.py.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from services.common.db.codec import aware, container_from_json
from services.common.db.models import PodChangeRow, PodPermissionRow
from services.common.db.sessions import Sessions
from services.common.pods_model import PodChange, RequestedStatus, Status
from services.common.runtime.types import PodKey

BATCH = 500  # changes read at most at once; the reader comes back for the rest


def _change(row: PodChangeRow) -> PodChange:
    time = aware(row.change_ts)
    assert time is not None
    return PodChange(
        key=PodKey(row.tenant_id, row.pod_id),
        change_id=row.id,
        status=Status(row.status),
        status_requested=RequestedStatus(row.status_requested),
        status_container=container_from_json(row.status_container),
        action_log=row.action_log,
        time=time,
    )


def _changes(session: Session, query: Select[PodChangeRow]) -> list[PodChange]:
    return [_change(row) for row in session.scalars(query)]


class PodChangeRepository:
    """Pod changes, oldest first. Every read is one trip to the database (Sessions.read): a
    watcher reads after each wake-up, so these reads are on the path from a recorded change
    to the client that waits for it."""

    def __init__(self, sessions: Sessions) -> None:
        self._session = sessions

    async def pod_changes(self, key: PodKey, after: int | None) -> list[PodChange]:
        """The pod's changes after the one numbered `after`; its latest alone when `after`
        is None or no longer one of its kept changes (the reader starts from the present)."""
        of_pod = (PodChangeRow.tenant_id == key.tenant_id, PodChangeRow.pod_id == key.pod_id)

        def read(session: Session) -> list[PodChange]:
            if after is not None:
                kept = select(PodChangeRow.id).where(*of_pod, PodChangeRow.id == after)
                if session.scalar(kept) is not None:
                    query = select(PodChangeRow).where(*of_pod, PodChangeRow.id > after)
                    return _changes(session, query.order_by(PodChangeRow.id).limit(BATCH))
            latest = select(PodChangeRow).where(*of_pod).order_by(PodChangeRow.id.desc()).limit(1)
            return _changes(session, latest)

        return await self._session.read(read)

    async def tenant_changes(
        self, tenant_id: str, after: int, reader: str | None = None
    ) -> list[PodChange]:
        """The changes of the tenant's pods after the one numbered `after`; with `reader`,
        only those of pods that user has a permission on now (the join is in SQL)."""
        query = select(PodChangeRow).where(
            PodChangeRow.tenant_id == tenant_id, PodChangeRow.id > after
        )
        if reader is not None:
            query = query.join(
                PodPermissionRow,
                (PodPermissionRow.tenant_id == PodChangeRow.tenant_id)
                & (PodPermissionRow.pod_id == PodChangeRow.pod_id),
            ).where(PodPermissionRow.username == reader)
        return await self._session.read(
            lambda session: _changes(session, query.order_by(PodChangeRow.id).limit(BATCH))
        )

    async def changes_of(
        self, tenant_id: str, pod_ids: Collection[str], after: int
    ) -> list[PodChange]:
        """The changes of the named pods after the one numbered `after`."""
        query = select(PodChangeRow).where(
            PodChangeRow.tenant_id == tenant_id,
            PodChangeRow.pod_id.in_(list(pod_ids)),
            PodChangeRow.id > after,
        )
        return await self._session.read(
            lambda session: _changes(session, query.order_by(PodChangeRow.id).limit(BATCH))
        )

    async def latest_changes(self, tenant_id: str, pod_ids: Collection[str]) -> list[PodChange]:
        """The latest change of each named pod (its current state), oldest first."""
        of_pods = (PodChangeRow.tenant_id == tenant_id, PodChangeRow.pod_id.in_(list(pod_ids)))
        newest = select(func.max(PodChangeRow.id)).where(*of_pods).group_by(PodChangeRow.pod_id)
        query = select(PodChangeRow).where(PodChangeRow.id.in_(newest))
        return await self._session.read(
            lambda session: _changes(session, query.order_by(PodChangeRow.id))
        )

    async def last_change_id(self, tenant_id: str) -> int:
        """The number of the tenant's latest change; 0 if none."""
        query = select(func.max(PodChangeRow.id)).where(PodChangeRow.tenant_id == tenant_id)
        return await self._session.read(lambda session: int(session.scalar(query) or 0))
