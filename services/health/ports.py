"""What the health domain (watcher.py) needs from the outside, as Protocols: the runtime's
observations. Implemented by services/health/remote_runtime.py (over the spawner's
SpawnerService) and, in tests, by services/common/runtime/fake.FakeRuntime; server.py wires
the concrete one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from services.common.runtime.types import ContainerState, LogChunk, PodKey, RuntimeEvent


class RuntimeObserver(Protocol):
    """The read side of the runtime (services/common/runtime/types.Runtime) health uses.
    Errors: outcomes.TemporaryError (try again) or outcomes.PermanentError."""

    async def inspect(self, key: PodKey) -> ContainerState | None:
        """The pod's container, or None when there is none."""
        ...

    async def list_managed(self) -> list[ContainerState]:
        """Every container of this deployment, ordered by key."""
        ...

    async def logs_since(self, key: PodKey, cursor: str, limit_bytes: int) -> LogChunk:
        """Output after `cursor` ("" for the start), at most its last `limit_bytes`."""
        ...

    def watch(self) -> AsyncIterator[RuntimeEvent]:
        """Events of managed containers as they happen, until cancelled or interrupted
        (TemporaryError); the caller reconnects and resyncs."""
        ...
