"""What health's watcher (services/health/watcher.py) needs from the database: one
Protocol per repository with only the methods it calls.

Implemented by services/common/db/repositories (bundled as `Repositories` by
services/common/db/database.py); services/health/server.py passes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from services.common.pods_model import ContainerStatus, PodRecord, RequestedStatus, Status
from services.common.quotas_model import Quota
from services.common.restarts import RestartPolicy
from services.common.runtime.types import PodKey


class PodReader(Protocol):
    """Reads of pods and the stop of an expired one."""

    async def get_pod(self, key: PodKey) -> PodRecord | None: ...

    async def list_all_pods(self) -> list[PodRecord]: ...

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
