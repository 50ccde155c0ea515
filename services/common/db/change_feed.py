"""Records every change a pod watcher sees as a row of pod_changes, in the same transaction
as the change itself: a `before_flush` hook on the session class that
services/common/db/sessions.py uses, so no repository can forget it and a change that rolls
back leaves no trace. What is watched: status, requested status, the container's status and
the latest action-log line (the fields of services/api/domain/watch.py's PodState). Only the
newest KEEP changes of a pod are kept; remove_pod (repositories/pod_state.py) deletes the rest.

Read by services/common/db/repositories/pod_changes.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, event, inspect, select
from sqlalchemy.orm import Session

from services.common.db.codec import aware
from services.common.db.models import PodChangeRow, PodRow

KEEP = 200  # changes kept per pod: a resumed stream further behind starts from the present
WATCHED = ("status", "status_requested", "status_container", "action_logs")


class RecordingSession(Session):
    """The sync session under every AsyncSession of services/common/db/sessions.py."""


def _view(values: dict[str, Any]) -> tuple[Any, ...]:
    logs = values["action_logs"] or []
    return (
        values["status"],
        values["status_requested"],
        values["status_container"],
        logs[-1] if logs else "",
    )


def _before_and_after(row: PodRow) -> tuple[tuple[Any, ...] | None, tuple[Any, ...]]:
    """The watched view of `row` as loaded (None for a new row) and as it is now."""
    state = inspect(row)
    after = {name: getattr(row, name) for name in WATCHED}
    if state.pending:
        return None, _view(after)
    before = dict(after)
    for name in WATCHED:
        history = state.attrs[name].history
        if history.deleted:
            before[name] = history.deleted[0]
    return _view(before), _view(after)


def _change_of(row: PodRow) -> PodChangeRow:
    logs = row.action_logs or []
    return PodChangeRow(
        tenant_id=row.tenant_id,
        pod_id=row.pod_id,
        status=row.status,
        status_requested=row.status_requested,
        status_container=row.status_container,
        action_log=logs[-1] if logs else "",
        change_ts=max(t for t in map(aware, (row.update_ts, row.status_changed_ts)) if t),
    )


def _prune(session: Session, row: PodRow) -> None:
    """Deletes the pod's changes older than its newest KEEP."""
    same_pod = (PodChangeRow.tenant_id == row.tenant_id, PodChangeRow.pod_id == row.pod_id)
    oldest_kept = (
        select(PodChangeRow.id)
        .where(*same_pod)
        .order_by(PodChangeRow.id.desc())
        .offset(KEEP)
        .limit(1)
        .scalar_subquery()
    )
    stale = delete(PodChangeRow).where(*same_pod, PodChangeRow.id <= oldest_kept)
    session.connection().execute(stale)


@event.listens_for(RecordingSession, "before_flush")
def _record_pod_changes(session: Session, _context: Any, _instances: Any) -> None:
    for row in (*session.new, *session.dirty):
        if not isinstance(row, PodRow) or row in session.deleted:
            continue
        before, after = _before_and_after(row)
        if before != after:
            if before is not None:
                _prune(session, row)
            session.add(_change_of(row))
