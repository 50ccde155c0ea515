"""What the spawner and health record on a pod's row: the generation the runtime applied,
a permanent failure, an observed status, a run's end and its scheduled restart, a stop, the
end of a restart, and the removal of the row once the runtime objects are gone.

Used by services/spawner/reconcile.py and services/health/watcher.py (through their
Protocols in services/spawner/ports.py and services/health/ports.py). Each method is one
transaction; conditional updates keep concurrent writers from undoing each other's work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from services.common.db.codec import aware, container_to_json
from services.common.db.models import PodChangeRow, PodLogChunk, PodPermissionRow, PodRow
from services.common.db.pod_rows import (
    forget_restarts,
    get_row,
    row_to_write,
    seconds,
    stop_time,
    with_action,
)
from services.common.db.repositories.logs import new_log_run
from services.common.db.sessions import Sessions
from services.common.pods_model import ContainerStatus, RequestedStatus, Status
from services.common.restarts import RestartPolicy
from services.common.runtime.types import PodKey


class PodStateRepository:
    """Applied and observed state of pods. Connection-level failures leave every method as
    DatabaseUnavailableError (a TemporaryError)."""

    def __init__(self, sessions: Sessions) -> None:
        self._session = sessions

    async def mark_applied(
        self, key: PodKey, generation: int, action: str, now: datetime, *, runs_kept: int = 0
    ) -> bool:
        """Records that the runtime applied `generation`; moves REQUESTED to CREATING. With
        `runs_kept` (a new container: created or replaced) its output starts a new log run in
        the same transaction, keeping the newest `runs_kept` runs (logs.new_log_run). One
        trip (Sessions.write): it is on every new container's way to AVAILABLE."""

        def write(session: Session) -> bool:
            row = row_to_write(session, key)
            if row is None or row.deletion_requested:
                return False
            if runs_kept:
                session.execute(new_log_run(row, runs_kept))
            if row.observed_generation < generation:
                row.observed_generation = generation
            if row.status == Status.REQUESTED.value:
                row.status = Status.CREATING.value
                row.status_changed_ts = now
            if action != "adopted":
                row.action_logs = with_action(row.action_logs, now, f"container {action}")
            row.update_ts = now
            return True

        return await self._session.write(write)

    async def mark_failed(self, key: PodKey, generation: int, message: str, now: datetime) -> None:
        """Records a permanent failure to apply `generation` (status ERROR), once: that
        generation counts as observed, so nothing retries it until the desired state changes
        again, and no restart is pending (the current run has ended)."""
        async with self._session.begin() as session:
            row = await get_row(session, key)
            if row is None or row.deletion_requested:
                return
            recorded = (
                row.status == Status.ERROR.value
                and row.observed_generation >= generation
                and row.ended_run == row.log_run
                and row.restart_due_ts is None
            )
            if recorded:
                return
            row.observed_generation = max(row.observed_generation, generation)
            row.ended_run = row.log_run
            row.restart_due_ts = None
            if (
                row.status_requested == RequestedStatus.RESTART.value
                and row.generation == generation
            ):
                row.status_requested = RequestedStatus.ON.value
            row.status = Status.ERROR.value
            row.status_container = {**row.status_container, "message": message}
            row.status_changed_ts = now
            row.update_ts = now
            row.action_logs = with_action(row.action_logs, now, f"error: {message}")

    async def record_observation(
        self,
        key: PodKey,
        status: Status,
        container: ContainerStatus,
        now: datetime,
    ) -> bool:
        """Writes what health observed; True when the status changed. Pods being deleted
        are left alone. One trip (Sessions.write): it is on every pod's way to AVAILABLE."""

        def write(session: Session) -> bool:
            row = row_to_write(session, key)
            if row is None or row.deletion_requested:
                return False
            changed = row.status != status.value
            new_container = container_to_json(container)
            if not changed and row.status_container == new_container:
                return False
            if changed:
                row.action_logs = with_action(row.action_logs, now, f"status {status.value}")
                row.status_changed_ts = now
            row.status = status.value
            row.status_container = new_container
            if container.start_time is not None and aware(row.start_instance_ts) != aware(
                container.start_time
            ):
                # A new container. Within a streak of automatic restarts it continues the run
                # the user started, so that run's time limit stands.
                automatic = row.crash_streak > 0 and row.time_to_stop_ts is not None
                row.start_instance_ts = container.start_time
                if not automatic:
                    row.time_to_stop_ts = stop_time(row.spec, container.start_time)
            row.update_ts = now
            return changed

        return await self._session.write(write)

    async def record_exit(
        self,
        key: PodKey,
        *,
        run: int,
        reason: str,
        run_seconds: float,
        policy: RestartPolicy,
        now: datetime,
    ) -> datetime | None:
        """Records that run `run` of an ON pod ended by itself and schedules its replacement
        (see services/common/restarts.py); returns when it is due. Once per run: None when
        that end is already recorded, the pod has moved to another run, is not ON, or has a
        desired state not applied yet (the spawner is about to act anyway)."""
        async with self._session.begin() as session:
            row = await get_row(session, key)
            if (
                row is None
                or row.deletion_requested
                or row.status_requested != RequestedStatus.ON.value
                or row.observed_generation < row.generation
                or row.log_run != run
                or row.ended_run == run
            ):
                return None
            streak = policy.streak_after(row.crash_streak, run_seconds)
            delay = policy.delay(streak)
            due = now + timedelta(seconds=delay)
            row.ended_run = run
            row.crash_streak = streak
            row.last_exit_reason = reason[:255]
            row.restart_due_ts = due
            row.update_ts = now
            text = f"{reason}; restart {row.restart_count + 1} in {seconds(delay)} s"
            row.action_logs = with_action(row.action_logs, now, text)
            return due

    async def mark_restarted(
        self, key: PodKey, run: int, action: str, runs_kept: int, now: datetime
    ) -> bool:
        """The spawner replaced the ended run `run` by a new container: counts the restart,
        starts a new log run (keeping `runs_kept`) and clears the schedule; False (nothing
        written) when that restart is no longer pending."""
        async with self._session.begin() as session:
            row = await get_row(session, key)
            pending = row is not None and row.restart_due_ts is not None
            if row is None or not pending or row.ended_run != run or row.log_run != run:
                return False
            await session.execute(new_log_run(row, runs_kept))
            row.restart_count += 1
            row.restart_due_ts = None
            row.update_ts = now
            text = f"container {action} (restart {row.restart_count})"
            row.action_logs = with_action(row.action_logs, now, text)
            return True

    async def remove_pod(self, key: PodKey) -> None:
        """Deletes the pod's row, permissions and logs (after its runtime objects are gone)."""
        async with self._session.begin() as session:
            await session.execute(
                delete(PodPermissionRow).where(
                    PodPermissionRow.tenant_id == key.tenant_id,
                    PodPermissionRow.pod_id == key.pod_id,
                )
            )
            await session.execute(
                delete(PodLogChunk).where(
                    PodLogChunk.tenant_id == key.tenant_id, PodLogChunk.pod_id == key.pod_id
                )
            )
            await session.execute(
                delete(PodChangeRow).where(
                    PodChangeRow.tenant_id == key.tenant_id, PodChangeRow.pod_id == key.pod_id
                )
            )
            await session.execute(
                delete(PodRow).where(PodRow.tenant_id == key.tenant_id, PodRow.pod_id == key.pod_id)
            )

    async def mark_stopped(self, key: PodKey, generation: int, now: datetime) -> None:
        """The container of a pod asked to be OFF is gone: status STOPPED."""
        async with self._session.begin() as session:
            row = await get_row(session, key)
            if row is None or row.deletion_requested or row.status_requested != "OFF":
                return
            row.observed_generation = max(row.observed_generation, generation)
            forget_restarts(row)
            if row.status != Status.STOPPED.value:
                row.status = Status.STOPPED.value
                row.status_changed_ts = now
                row.action_logs = with_action(row.action_logs, now, "status STOPPED")
            row.status_container = container_to_json(
                ContainerStatus(phase="absent", message="pod is stopped")
            )
            row.update_ts = now

    async def finish_restart(self, key: PodKey, generation: int, now: datetime) -> None:
        """A restart has made its new container: the desired state is ON again."""
        async with self._session.begin() as session:
            row = await get_row(session, key)
            if row is None or row.status_requested != "RESTART" or row.generation != generation:
                return
            row.status_requested = RequestedStatus.ON.value
            row.update_ts = now
