"""When health reads a running pod's new output again: pure, in memory, used by
watcher.Watcher's incremental resync.

Reading a pod's output costs a runtime call (through the spawner, to the engine) whether or not
it wrote anything, every `resync_interval` for every running pod: at a thousand idle pods that
was most of health's CPU. A pod whose reads keep finding nothing is read less often: the wait
doubles with each empty read, from one interval up to `longest_gap` intervals; output found
brings it back to every interval. Events (start, stop) still read a pod's output at once, and
a restart of health reads every pod again at the next pass (nothing here is stored).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common.runtime.types import PodKey


@dataclass
class _Quiet:
    empty_reads: int = 0
    passes_left: int = 0


class LogCadence:
    """Which running pods' output the current resync pass reads."""

    def __init__(self, longest_gap: int = 4) -> None:
        self._longest_gap = longest_gap
        self._quiet: dict[PodKey, _Quiet] = {}

    def due(self, running: list[PodKey]) -> list[PodKey]:
        """The pods of `running` to read in this pass (forgets the others)."""
        self._quiet = {key: self._quiet[key] for key in running if key in self._quiet}
        chosen = []
        for key in running:
            quiet = self._quiet.get(key)
            if quiet is None or quiet.passes_left <= 0:
                chosen.append(key)
            else:
                quiet.passes_left -= 1
        return chosen

    def read(self, key: PodKey, *, found_output: bool) -> None:
        """Records what a read of `key`'s output found."""
        if found_output:
            self._quiet.pop(key, None)
            return
        quiet = self._quiet.setdefault(key, _Quiet())
        quiet.empty_reads += 1
        quiet.passes_left = min(2 ** (quiet.empty_reads - 1), self._longest_gap) - 1
