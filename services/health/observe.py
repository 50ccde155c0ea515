"""Maps what the runtime reports (and the readiness probe) to the pod's observed status, and
tells when a run ended by itself (the restart rule, services/common/restarts.py). Pure
functions; called by watcher.py, tested against literal cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.common.pods_model import ContainerStatus, PodRecord, RequestedStatus, Status
from services.common.restarts import exit_reason, is_ended
from services.common.runtime.types import ContainerState, Phase

STARTING = (Phase.CREATED, Phase.RESTARTING, Phase.PAUSED)


@dataclass(frozen=True)
class Observation:
    """The status to record."""

    status: Status
    container: ContainerStatus


@dataclass(frozen=True)
class RunEnd:
    """The current run of an ON pod ended by itself: why, and how long it had been up."""

    reason: str
    run_seconds: float


def run_end(record: PodRecord, state: ContainerState | None, now: datetime) -> RunEnd | None:
    """The end of the pod's current run to record, or None: the pod is not ON, its desired
    state is not applied yet (the spawner is acting), the container serves, or this run's
    end is already recorded."""
    if record.deletion_requested or record.status_requested is not RequestedStatus.ON:
        return None
    if record.observed_generation < record.generation or record.ended_run == record.run:
        return None
    if unrecorded(record, state):
        return None  # its run is not the pod's yet; the spawner records it, then it counts
    if not is_ended(state):
        return None
    started = (state.started_at if state else None) or record.start_instance_ts
    finished = (state.finished_at if state else None) or now
    seconds = (finished - started).total_seconds() if started else 0.0
    return RunEnd(exit_reason(state), max(seconds, 0.0))


def observe(record: PodRecord, state: ContainerState | None, ready: bool) -> Observation | None:
    """What to record for `record` given its container `state`; None leaves it as it is."""
    if record.deletion_requested:
        return None
    if record.status_requested is RequestedStatus.OFF:
        return _stopping(state)
    if state is None:
        return _absent(record)
    container = ContainerStatus(
        phase=state.phase.value,
        message=_message(state),
        start_time=state.started_at,
        exit_code=state.exit_code,
        ready=ready and state.phase is Phase.RUNNING,
        published=dict(state.published),
    )
    if state.phase is Phase.RUNNING:
        serving = ready and not unrecorded(record, state)
        return Observation(Status.AVAILABLE if serving else Status.CREATING, container)
    if state.phase is Phase.CREATED and state.error:  # its start failed (the spawner's error)
        return Observation(Status.ERROR, container)
    if state.phase in STARTING:
        return Observation(Status.CREATING, container)
    if state.phase is Phase.EXITED:
        done = state.exit_code == 0 and not state.error
        return Observation(Status.COMPLETE if done else Status.ERROR, container)
    if state.phase is Phase.DEAD:
        return Observation(Status.ERROR, container)
    return None  # removing: the next event tells what follows


def unrecorded(record: PodRecord, state: ContainerState | None) -> bool:
    """The container was made to start a log run the spawner has not recorded yet (it does
    so right after the engine started it). Until then the pod's run, logs and status belong
    to its previous container: it is CREATING, not AVAILABLE, however well it answers."""
    return state is not None and state.run > record.run


def _stopping(state: ContainerState | None) -> Observation:
    """A pod asked to be OFF is DELETING while its container exists, then STOPPED."""
    if state is None:
        return Observation(
            Status.STOPPED, ContainerStatus(phase="absent", message="pod is stopped")
        )
    container = ContainerStatus(phase=state.phase.value, message="container is being removed")
    return Observation(Status.DELETING, container)


def _absent(record: PodRecord) -> Observation | None:
    """No container. While the spawner has not applied the spec yet, wait; a run that ended
    for good (a permanent failure) stays as it is; otherwise the container vanished and a new
    one is due (watcher.py records the end, the spawner replaces it)."""
    applied = record.observed_generation >= record.generation
    ended_for_good = record.ended_run == record.run and not record.restart_pending
    if applied and not ended_for_good:
        container = ContainerStatus(phase="absent", message="container is gone; a new one is due")
        return Observation(Status.REQUESTED, container)
    return None


def _message(state: ContainerState) -> str:
    if state.phase is Phase.EXITED:
        text = f"container exited with code {state.exit_code}"
        return f"{text}: {state.error}" if state.error else text
    if state.error:
        return state.error
    return {
        Phase.RUNNING: "container is running",
        Phase.CREATED: "container created",
        Phase.RESTARTING: "container is restarting",
        Phase.PAUSED: "container is paused",
        Phase.DEAD: "container is dead",
    }.get(state.phase, "")
