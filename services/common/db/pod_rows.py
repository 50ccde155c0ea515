"""How one pod's row changes, shared by the repositories that write it: reading the row
(locked FOR UPDATE inside a write transaction), its action log lines, and recording a new
desired state. Used by services/common/db/repositories (pods, pod_state, grants, logs).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.db.models import PodRow
from services.common.db.sessions import WRITE
from services.common.pods_model import RequestedStatus, Status
from services.common.runtime.types import PodKey

MAX_ACTION_LOGS = 200
AT_REST = (Status.STOPPED.value, Status.COMPLETE.value, Status.ERROR.value)


async def get_row(session: Any, key: PodKey) -> PodRow | None:
    """The pod's row; locked FOR UPDATE when read inside a write transaction."""
    query = select(PodRow).where(PodRow.tenant_id == key.tenant_id, PodRow.pod_id == key.pod_id)
    if session.info.get(WRITE):
        query = query.with_for_update()
    result: PodRow | None = await session.scalar(query)
    return result


def row_to_write(session: Session, key: PodKey) -> PodRow | None:
    """The pod's row, locked FOR UPDATE, in a sync write transaction (Sessions.write)."""
    query = select(PodRow).where(PodRow.tenant_id == key.tenant_id, PodRow.pod_id == key.pod_id)
    return session.scalar(query.with_for_update())


def stop_time(spec: dict[str, Any], started: datetime) -> datetime | None:
    """When a run that started at `started` must be stopped; None for never (-1)."""
    seconds = spec.get("time_to_stop_instance") or spec.get("time_to_stop_default") or -1
    return None if seconds < 0 else started + timedelta(seconds=seconds)


def action_line(now: datetime, text: str) -> str:
    """One action log line as Tapis writes them: the UTC time to the minute, then the text
    (`24/03/18 11:36: pod created by alice`)."""
    if now.tzinfo is not None:
        now = now.astimezone(UTC)
    return f"{now.strftime('%y/%m/%d %H:%M')}: {text}"


def with_action(logs: Iterable[str], now: datetime, text: str) -> list[str]:
    return [*logs, action_line(now, text)][-MAX_ACTION_LOGS:]


def forget_restarts(row: PodRow) -> None:
    """A user's change starts afresh: no restart pending, no streak, and the current run's
    end (if it has ended) is recorded again once the change is applied."""
    row.restart_due_ts = None
    row.crash_streak = 0
    row.ended_run = None


def seconds(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def request(row: PodRow, requested: RequestedStatus, now: datetime, why: str) -> None:
    """Records a new desired state on a pod's row (a new generation for the spawner)."""
    row.status_requested = requested.value
    row.generation += 1
    forget_restarts(row)
    restarting = requested is RequestedStatus.RESTART
    if restarting or (requested is RequestedStatus.ON and row.status in AT_REST):
        row.status = Status.REQUESTED.value
        row.status_changed_ts = now
    if requested is not RequestedStatus.ON:
        row.time_to_stop_ts = None
        if row.spec.get("time_to_stop_instance") is not None:  # for one run only, as in Tapis
            row.spec = {**row.spec, "time_to_stop_instance": None}
    row.update_ts = now
    row.action_logs = with_action(row.action_logs, now, why)
