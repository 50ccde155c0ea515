"""The restart rule: immediate first restart, then doubling waits up to a cap, a long run ends
the streak; and how the end of a run is told."""

from __future__ import annotations

import pytest

from services.common.restarts import RestartPolicy, exit_reason, is_ended
from services.common.runtime.types import ContainerState, Phase, PodKey

POLICY = RestartPolicy(base=10, cap=300, reset_after=600)


def state(phase: Phase, code: int | None = None, error: str = "") -> ContainerState:
    return ContainerState(PodKey("dev", "p"), "c", phase, exit_code=code, error=error)


@pytest.mark.parametrize(
    ("streak", "delay"), [(1, 0), (2, 10), (3, 20), (4, 40), (6, 160), (7, 300), (500, 300)]
)
def test_waits_double_from_the_second_restart_up_to_the_cap(streak: int, delay: float) -> None:
    assert POLICY.delay(streak) == delay


def test_a_short_run_continues_the_streak_and_a_long_one_starts_a_new_one() -> None:
    assert POLICY.streak_after(3, run_seconds=5) == 4
    assert POLICY.streak_after(0, run_seconds=5) == 1
    assert POLICY.streak_after(7, run_seconds=600) == 1


@pytest.mark.parametrize(
    ("observed", "reason"),
    [
        (None, "container removed"),
        (state(Phase.PAUSED), "container paused"),
        (state(Phase.EXITED, 3), "container exited with code 3"),
        (state(Phase.EXITED, 0), "container exited with code 0"),
        (state(Phase.EXITED, 137), "container exited with code 137 (SIGKILL)"),
        (state(Phase.EXITED, 143), "container exited with code 143 (SIGTERM)"),
        (state(Phase.EXITED, 137, "out of memory"), "container exited with code 137 (OOMKilled)"),
        (state(Phase.EXITED, 255), "container exited with code 255"),
        (state(Phase.DEAD), "container dead"),
    ],
)
def test_the_reason_names_the_code_the_signal_or_the_oom_kill(
    observed: ContainerState | None, reason: str
) -> None:
    assert exit_reason(observed) == reason


def test_gone_stopped_and_frozen_containers_do_not_serve() -> None:
    assert is_ended(None)
    assert all(is_ended(state(p)) for p in (Phase.EXITED, Phase.DEAD, Phase.PAUSED))
    assert not any(is_ended(state(p)) for p in (Phase.RUNNING, Phase.CREATED, Phase.RESTARTING))
