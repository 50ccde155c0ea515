"""What the health domain (watcher.py) needs from the outside, as Protocols: the runtime's
observations (RuntimeObserver), implemented by services/health/remote_runtime.py over the
spawner's SpawnerService and, in tests, by services/common/runtime/fake.FakeRuntime; and the
database (HealthStore: one Protocol per repository with only the methods the watcher calls),
implemented by services/common/db/repositories (bundled as `Repositories` by
services/common/db/database.py). server.py wires the concrete ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol

from services.common.pods_model import ContainerStatus, PodRecord, RequestedStatus, Status
from services.common.quotas_model import Quota
from services.common.restarts import RestartPolicy
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


class PodReader(Protocol):
    """Reads of pods and the stop of an expired one."""

    async def get_pod(self, key: PodKey) -> PodRecord | None: ...

    async def list_all_pods(self) -> list[PodRecord]: ...

    async def pods_in_motion(self, now: datetime) -> list[PodRecord]: ...

    async def set_requested(
        self,
        key: PodKey,
        requested: RequestedStatus,
        now: datetime,
        why: str,
        quota: Quota | None = None,
    ) -> PodRecord | None: ...


class ObservedState(Protocol):
    """What health records of what it observed."""

    async def record_observation(
        self,
        key: PodKey,
        status: Status,
        container: ContainerStatus,
        now: datetime,
    ) -> bool: ...

    async def record_exit(
        self,
        key: PodKey,
        *,
        run: int,
        reason: str,
        run_seconds: float,
        policy: RestartPolicy,
        now: datetime,
    ) -> datetime | None: ...


class LogWriter(Protocol):
    """Where the last log read stopped, and appending what was read."""

    async def log_position(self, key: PodKey) -> tuple[int, str] | None: ...

    async def running_positions(self) -> list[tuple[PodKey, int, str]]: ...

    async def append_logs(
        self,
        key: PodKey,
        text: str,
        *,
        run: int,
        after: str,
        cursor: str,
        limit_bytes: int,
    ) -> bool: ...


class HealthStore(Protocol):
    """The repositories the watcher uses."""

    @property
    def pods(self) -> PodReader: ...

    @property
    def pod_state(self) -> ObservedState: ...

    @property
    def logs(self) -> LogWriter: ...
