"""Stamps a pod's row with the trace context of the call that changes its desired state (a
new row, or a new generation): a `before_flush` hook on the sessions of
services/common/db/sessions.py, so every repository that records a desired state does it.
Health reads the stamp (PodRecord.trace_parent) and records the outcome it observes in the
same trace (services/health/server.py), so one create is one trace from the gateway to
AVAILABLE. Nothing is stamped while tracing is off.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from services.common import tracing
from services.common.db.change_feed import RecordingSession
from services.common.db.models import PodRow


def _desired_state_changed(row: PodRow) -> bool:
    state = inspect(row)
    return bool(state.pending or state.attrs.generation.history.has_changes())


@event.listens_for(RecordingSession, "before_flush")
def _stamp_trace(session: Session, _context: Any, _instances: Any) -> None:
    if not tracing.enabled():
        return
    parent = tracing.current_traceparent()
    if not parent:
        return
    for row in (*session.new, *session.dirty):
        if isinstance(row, PodRow) and _desired_state_changed(row):
            row.trace_parent = parent
