"""Admission of commands run in pods (ExecInPod): at most so many at once per pod, per user and
in total. Called by services/spawner/server.py around each runtime exec.

The limits live in the spawner because it owns the runtime's exec threads: it is the one place
that sees every exec of the deployment, whichever API replica the call came through. An exec
beyond a limit is refused at once (never queued), so a caller learns it with HTTP 429 instead
of waiting behind other users' long commands.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from services.common.runtime.types import PodKey

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class ExecLimits:
    """How many commands may run at once (each at least 1)."""

    per_pod: int
    per_user: int
    total: int


class ExecLimitReached(Exception):
    """An exec would pass a limit; the message names it and its setting."""


class ExecAdmission:
    """Counts running execs. Not thread-safe: used from the spawner's one event loop."""

    def __init__(self, limits: ExecLimits) -> None:
        self.limits = limits
        self._per_pod: Counter[PodKey] = Counter()
        self._per_user: Counter[tuple[str, str]] = Counter()
        self._total = 0

    @property
    def running(self) -> int:
        return self._total

    @contextmanager
    def admit(self, key: PodKey, user: str) -> Iterator[None]:
        """Holds one slot of each limit while the block runs; ExecLimitReached if one is
        full. `user` is the caller's username in the pod's tenant."""
        user_key = (key.tenant_id, user)
        self._check(key, user, user_key)
        self._per_pod[key] += 1
        self._per_user[user_key] += 1
        self._total += 1
        try:
            yield
        finally:
            self._total -= 1
            _release(self._per_pod, key)
            _release(self._per_user, user_key)

    def _check(self, key: PodKey, user: str, user_key: tuple[str, str]) -> None:
        limits = self.limits
        if self._per_pod[key] >= limits.per_pod:
            raise ExecLimitReached(
                f"pod '{key.pod_id}' already runs {limits.per_pod} commands, the most allowed "
                "at once (PODS_EXEC_MAX_PER_POD); retry when one has finished"
            )
        if self._per_user[user_key] >= limits.per_user:
            raise ExecLimitReached(
                f"user '{user}' already runs {limits.per_user} commands, the most allowed at "
                "once (PODS_EXEC_MAX_PER_USER); retry when one has finished"
            )
        if self._total >= limits.total:
            raise ExecLimitReached(
                f"the service already runs {limits.total} commands, the most allowed at once "
                "(PODS_EXEC_MAX_TOTAL); retry later"
            )


def _release(counter: Counter[K], key: K) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
