"""What the spawner's reconcile loop (services/spawner/reconcile.py) needs from the
database: one Protocol per repository with only the methods it calls.

Implemented by services/common/db/repositories (bundled as `Repositories` by
services/common/db/database.py); services/spawner/server.py passes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from services.common.pods_model import PodRecord
from services.common.runtime.types import PodKey


class PodReader(Protocol):
    """Reads of one pod."""

    async def get_pod(self, key: PodKey) -> PodRecord | None: ...

    async def credentials(self, key: PodKey) -> str | None: ...


class AppliedState(Protocol):
    """What the spawner records after acting on a pod."""

    async def mark_applied(
        self, key: PodKey, generation: int, action: str, now: datetime, *, runs_kept: int = 0
    ) -> bool: ...

    async def mark_failed(
        self, key: PodKey, generation: int, message: str, now: datetime
    ) -> None: ...

    async def mark_restarted(
        self, key: PodKey, run: int, action: str, runs_kept: int, now: datetime
    ) -> bool: ...

    async def remove_pod(self, key: PodKey) -> None: ...

    async def mark_stopped(self, key: PodKey, generation: int, now: datetime) -> None: ...

    async def finish_restart(self, key: PodKey, generation: int, now: datetime) -> None: ...


class SpawnerStore(Protocol):
    """The repositories the reconcile loop uses."""

    @property
    def pods(self) -> PodReader: ...

    @property
    def pod_state(self) -> AppliedState: ...
