"""Reads a Pod object (the API's JSON form) as our ContainerState. Pure; called by
runtime.KubernetesRuntime for inspect and list_managed, over API reads or the informer cache.

Phases, in order of precedence:
- REMOVING: the Pod has a deletionTimestamp (terminating).
- DEAD with the reason as error text: the container waits for a reason that will not pass by
  itself (ImagePullBackOff, ErrImagePull, CrashLoopBackOff, ...), the scheduler reports the
  Pod Unschedulable, the Pod failed before its container ran (evicted, ...), or its node
  stopped reporting (phase Unknown). Health records DEAD as ERROR with this text as
  status_container.message.
- EXITED with the exit code: the container terminated (restartPolicy is Never). "out of memory"
  for OOMKilled; other unusual reasons as text; plain "Error"/"Completed" leave the exit code
  to speak.
- RUNNING when the container runs and is Ready (its readiness probe passed, or it has none);
  CREATED while it runs but is not Ready yet, and while it is being scheduled, pulled or
  created. The runtime publishes no loopback ports on Kubernetes (`published` is empty), so
  health takes RUNNING as ready; readiness comes from the kubelet's probe instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.common.runtime.kubernetes.names import ANNOTATION_SPEC_HASH
from services.common.runtime.naming import labelled_run
from services.common.runtime.types import ContainerState, Phase, PodKey
from services.spawner.platforms.kubernetes.manifests import CONTAINER_NAME

Obj = Mapping[str, Any]

# Waiting reasons that mean the container will not start without someone changing something.
ERROR_WAITING_REASONS = frozenset(
    {
        "CrashLoopBackOff",
        "CreateContainerConfigError",
        "CreateContainerError",
        "ErrImageNeverPull",
        "ErrImagePull",
        "ImageInspectError",
        "ImagePullBackOff",
        "InvalidImageName",
        "PostStartHookError",
        "PreCreateHookError",
        "RunContainerError",
    }
)
QUIET_TERMINATION_REASONS = frozenset({"", "Completed", "Error"})
OOM_REASON = "OOMKilled"


def parse_time(value: object) -> datetime | None:
    """An aware datetime from the API's RFC 3339 text (None when absent)."""
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value)


def _reason_text(reason: str, message: str) -> str:
    return f"{reason}: {message}" if message else reason


def main_container_status(pod: Obj) -> Obj | None:
    """The status of the pod's container (by name, else the first one), None before any."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    for status in statuses:
        if status.get("name") == CONTAINER_NAME:
            return dict(status)
    return dict(statuses[0]) if statuses else None


def _unschedulable(status: Obj) -> str:
    for condition in status.get("conditions") or []:
        if (
            condition.get("type") == "PodScheduled"
            and condition.get("status") == "False"
            and condition.get("reason") == "Unschedulable"
        ):
            return _reason_text("Unschedulable", str(condition.get("message", "")))
    return ""


def _terminated_error(terminated: Obj, pod_status: Obj) -> str:
    reason = str(terminated.get("reason", ""))
    parts: list[str] = []
    if reason == OOM_REASON:
        parts.append("out of memory")
    elif reason not in QUIET_TERMINATION_REASONS:
        parts.append(_reason_text(reason, str(terminated.get("message", ""))))
    if pod_status.get("reason"):  # Evicted, DeadlineExceeded, Shutdown, ...
        parts.append(_reason_text(str(pod_status["reason"]), str(pod_status.get("message", ""))))
    return "; ".join(parts)


def _phase_and_error(pod: Obj, container: Obj | None) -> tuple[Phase, str]:
    status = pod.get("status") or {}
    state = (container or {}).get("state") or {}
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return Phase.REMOVING, ""
    waiting = state.get("waiting") or {}
    if waiting.get("reason") in ERROR_WAITING_REASONS:
        return Phase.DEAD, _reason_text(str(waiting["reason"]), str(waiting.get("message", "")))
    if "terminated" in state:
        return Phase.EXITED, _terminated_error(state["terminated"] or {}, status)
    pod_phase = status.get("phase", "Pending")
    if pod_phase in ("Failed", "Succeeded"):
        reason = str(status.get("reason") or f"pod {pod_phase.lower()}")
        return Phase.DEAD, _reason_text(reason, str(status.get("message", "")))
    if pod_phase == "Unknown":
        return Phase.DEAD, _reason_text(
            "pod state unknown (its node stopped reporting)", str(status.get("message", ""))
        )
    unschedulable = _unschedulable(status)
    if unschedulable:
        return Phase.DEAD, unschedulable
    if "running" in state and container and container.get("ready"):
        return Phase.RUNNING, ""
    return Phase.CREATED, ""


def pod_state(key: PodKey, pod: Obj) -> ContainerState:
    """Our ContainerState of `pod`, the Pod object of `key`."""
    meta = pod.get("metadata") or {}
    container = main_container_status(pod)
    state = (container or {}).get("state") or {}
    phase, error = _phase_and_error(pod, container)
    running = state.get("running") or {}
    terminated = state.get("terminated") or {}
    exit_code = terminated.get("exitCode") if phase is Phase.EXITED else None
    return ContainerState(
        key=key,
        name=str(meta.get("name", "")),
        phase=phase,
        spec_hash=str((meta.get("annotations") or {}).get(ANNOTATION_SPEC_HASH, "")),
        run=labelled_run(meta.get("annotations")),
        exit_code=None if exit_code is None else int(exit_code),
        error=error,
        started_at=parse_time(running.get("startedAt") or terminated.get("startedAt")),
        finished_at=parse_time(terminated.get("finishedAt")),
        published={},
    )


def is_running(pod: Obj) -> bool:
    """True while the container runs and the Pod is not being deleted: only then can a
    command be run in it."""
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    state = (main_container_status(pod) or {}).get("state") or {}
    return "running" in state


def has_started(pod: Obj) -> bool:
    """True once the container has run (running or terminated): only then has it logs."""
    state = (main_container_status(pod) or {}).get("state") or {}
    return "running" in state or "terminated" in state
