"""The restart rule for pods whose container ended without being asked to (pure functions).

While a pod is ON, health records each end of its container once (why it ended, and when the
next container is due) and the spawner replaces the container when due. Consecutive ends form
a streak: the first restart of a streak is immediate, each further one waits twice as long as
the one before (`base`, 2 x `base`, ... up to `cap`), like Kubernetes' CrashLoopBackOff. A run
that stayed up for `reset_after` seconds ends the streak. Used by
services/common/db/repositories/pod_state.py (record_exit), services/health (what ended and
why) and tested with literal cases.
"""

from __future__ import annotations

import contextlib
import signal
from dataclasses import dataclass

from services.common.runtime.types import ContainerState, Phase

ENDED = (Phase.EXITED, Phase.DEAD, Phase.PAUSED)  # with None: the container is not serving


@dataclass(frozen=True)
class RestartPolicy:
    """Backoff of automatic restarts, in seconds (settings PODS_RESTART_*)."""

    base: float = 10.0
    cap: float = 300.0
    reset_after: float = 600.0

    def streak_after(self, streak: int, run_seconds: float) -> int:
        """The streak once a run that lasted `run_seconds` has ended; `streak` is the one
        before it (0: none)."""
        return 1 if run_seconds >= self.reset_after else streak + 1

    def delay(self, streak: int) -> float:
        """Seconds before the restart that follows the `streak`-th end in a row."""
        if streak <= 1:
            return 0.0
        return float(min(self.cap, self.base * 2 ** min(streak - 2, 30)))


def exit_reason(state: ContainerState | None) -> str:
    """Why the container is not serving, for the pod's last_exit_reason and action_logs."""
    if state is None:
        return "container removed"
    if state.phase is Phase.PAUSED:
        return "container paused"
    code = state.exit_code
    if state.phase is Phase.DEAD and code is None:
        return "container dead"
    text = f"container exited with code {code}"
    detail = []
    if "out of memory" in state.error:
        detail.append("OOMKilled")
    elif code is not None and 128 < code < 128 + 65:
        with contextlib.suppress(ValueError):  # not a signal number
            detail.append(signal.Signals(code - 128).name)
    return f"{text} ({', '.join(detail)})" if detail else text


def is_ended(state: ContainerState | None) -> bool:
    """The container is gone, has stopped, or is frozen: the pod is not serving."""
    return state is None or state.phase in ENDED
