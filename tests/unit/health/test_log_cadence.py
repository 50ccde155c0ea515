"""Health reads a quiet pod's output less and less often (every pass, then every 2nd, then
every 4th at most), and every pass again once output is found; pods that stop running are
forgotten."""

from __future__ import annotations

from services.common.runtime.types import PodKey
from services.health.log_cadence import LogCadence

QUIET = PodKey("dev", "quiet")
CHATTY = PodKey("dev", "chatty")


def passes_read(cadence: LogCadence, key: PodKey, passes: int, *, output: bool) -> list[int]:
    """The pass numbers (of `passes`) in which `key` was read, each read finding `output`."""
    read = []
    for number in range(passes):
        if key in cadence.due([key]):
            read.append(number)
            cadence.read(key, found_output=output)
    return read


def test_a_quiet_pod_is_read_ever_less_often_up_to_every_fourth_pass() -> None:
    assert passes_read(LogCadence(), QUIET, 16, output=False) == [0, 1, 3, 7, 11, 15]


def test_a_pod_writing_output_is_read_every_pass() -> None:
    assert passes_read(LogCadence(), CHATTY, 6, output=True) == [0, 1, 2, 3, 4, 5]


def test_output_found_brings_a_quiet_pod_back_to_every_pass() -> None:
    cadence = LogCadence()
    passes_read(cadence, QUIET, 8, output=False)  # read at 0, 1, 3, 7: now every 4th pass
    assert passes_read(cadence, QUIET, 4, output=True) == [3]
    assert passes_read(cadence, QUIET, 3, output=False) == [0, 1]  # the doubling starts over


def test_the_longest_gap_is_configurable_and_others_are_unaffected() -> None:
    cadence = LogCadence(longest_gap=2)
    assert passes_read(cadence, QUIET, 8, output=False) == [0, 1, 3, 5, 7]
    assert cadence.due([QUIET, CHATTY]) == [CHATTY]


def test_a_pod_no_longer_running_is_forgotten() -> None:
    cadence = LogCadence()
    passes_read(cadence, QUIET, 4, output=False)
    assert cadence.due([]) == []
    assert cadence.due([QUIET]) == [QUIET]  # running again: read at once
