"""The `default-bridge` network mode (`PODS_DOCKER_NETWORK_MODE=default-bridge`): pods run on
the engine's own default bridge (Docker's network "bridge", docker0), which the engine keeps
with inter-container traffic off when dockerd runs with `--icc=false` (scripts/setup starts
the machine's engine so; CIS Docker Benchmark 2.1). Used by runtime.DockerRuntime, in its
worker threads (blocking SDK calls).

Why: a container starts about 60 ms sooner on the default bridge than on any user-defined
bridge (Docker 20.10 sets up its embedded DNS resolver in every container of a user-defined
network; BENCHMARKS.md), and the default bridge has no such DNS, so a pod cannot even resolve
another pod's name. Pods stay apart as on the shared network: the engine drops traffic from
one container of the bridge to another, and ports are published on 127.0.0.1 only
(translate.py). The mode is refused, pod by pod, with a PermanentError naming the flag,
while the engine's bridge lets containers talk: a pod is never started where it could reach
another.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.common.outcomes import PermanentError
from services.spawner.platforms.docker.network import ICC_OPTION

DEFAULT_BRIDGE = "bridge"  # Docker's name for the default bridge network


def icc_is_off(network: dict[str, Any]) -> bool:
    """Whether an inspected network drops traffic between its containers."""
    return (network.get("Options") or {}).get(ICC_OPTION) == "false"


@dataclass
class _Check:
    """One inspect of the default bridge on its way, and its answer once it has come."""

    done: threading.Event = field(default_factory=threading.Event)
    isolates: bool = False
    error: BaseException | None = None
    waiting: int = 0  # callers waiting for this answer besides the one asking


class DefaultBridge:
    """Checks, at every use, that the engine's default bridge isolates containers. Uses at
    the same moment (a burst of creates) share one check: a caller that finds a check on its
    way waits for that answer instead of asking the engine again. Nothing is remembered once
    it has come, so an engine restarted without the flag is seen by the next use."""

    def __init__(self, api: Callable[[], Any]) -> None:
        self._api = api  # returns the docker.APIClient
        self._lock = threading.Lock()
        self._on_its_way: _Check | None = None

    @property
    def waiting(self) -> int:
        """Callers waiting for the answer of the check on its way (0 when none is)."""
        with self._lock:
            return 0 if self._on_its_way is None else self._on_its_way.waiting

    def isolates(self) -> bool:
        """Whether the engine's default bridge has inter-container traffic off."""
        with self._lock:
            check, ask = self._on_its_way, self._on_its_way is None
            if check is None:
                check = self._on_its_way = _Check()
            else:
                check.waiting += 1
        if not ask:
            check.done.wait()
            if check.error is not None:
                raise check.error
            return check.isolates
        try:
            check.isolates = icc_is_off(self._api().inspect_network(DEFAULT_BRIDGE))
        except BaseException as exc:
            check.error = exc
            raise
        finally:
            with self._lock:
                self._on_its_way = None
            check.done.set()
        return check.isolates

    def ensure(self) -> str:
        """The network a new pod container joins; PermanentError when it would not isolate."""
        if not self.isolates():
            raise PermanentError(
                "PODS_DOCKER_NETWORK_MODE=default-bridge needs the engine's default bridge "
                "with inter-container traffic off, and this engine lets its containers "
                "talk: start dockerd with --icc=false (scripts/setup does), or use the "
                "shared mode"
            )
        return DEFAULT_BRIDGE
