"""Maps what the runtime reports (and the readiness probe) to the pod's observed status.
Pure functions; called by watcher.py, tested against literal cases."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.pods_model import ContainerStatus, PodRecord, RequestedStatus, Status
from services.common.runtime.types import ContainerState, Phase

STARTING = (Phase.CREATED, Phase.RESTARTING, Phase.PAUSED)


@dataclass(frozen=True)
class Observation:
    """The status to record, and whether the spawner must be asked to act."""

    status: Status
    container: ContainerStatus
    needs_reconcile: bool = False


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
        return Observation(Status.AVAILABLE if ready else Status.CREATING, container)
    if state.phase in STARTING:
        return Observation(Status.CREATING, container)
    if state.phase is Phase.EXITED:
        done = state.exit_code == 0 and not state.error
        return Observation(Status.COMPLETE if done else Status.ERROR, container)
    if state.phase is Phase.DEAD:
        return Observation(Status.ERROR, container)
    return None  # removing: the next event tells what follows


def _stopping(state: ContainerState | None) -> Observation:
    """A pod asked to be OFF is DELETING while its container exists, then STOPPED."""
    if state is None:
        return Observation(
            Status.STOPPED, ContainerStatus(phase="absent", message="pod is stopped")
        )
    container = ContainerStatus(phase=state.phase.value, message="container is being removed")
    return Observation(Status.DELETING, container)


def _absent(record: PodRecord) -> Observation | None:
    """No container. While the spawner has not applied the spec yet, wait; if a container the
    spawner made has vanished, ask for it again."""
    applied = record.observed_generation >= record.generation
    if applied and record.status in (Status.AVAILABLE, Status.CREATING):
        container = ContainerStatus(phase="absent", message="container is gone; recreating it")
        return Observation(Status.REQUESTED, container, needs_reconcile=True)
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
