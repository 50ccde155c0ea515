"""Stops pods that may no longer mount what they mount: when a user's grant on a volume or
snapshot is lowered or removed, that user's pods mounting it are stopped (status_requested
OFF, the reason in their action_logs, in the grant change's own transaction: the Store's
`Revocation`) and the spawner is told at once; when a volume or snapshot is deleted with
`force`, every pod mounting it is stopped the same way.

Called by domain/volumes.py around the grant change and before the forced delete. The rule
the pods follow: a pod mounts a volume with its owner's USER permission (READ for a snapshot);
starting a pod checks that again (domain/pods.py), so a stopped pod cannot be started back into
access its owner lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from services.api.domain.pods import ReconcileRequester
from services.common.db.store import Revocation, Store
from services.common.outcomes import PodsError
from services.common.pods_model import Level, PodRecord, RequestedStatus
from services.common.storage.types import SnapshotKey, VolumeKey

log = logging.getLogger(__name__)


def needed_to_mount(key: VolumeKey | SnapshotKey) -> Level:
    """USER mounts a volume, READ a snapshot."""
    return Level.USER if isinstance(key, VolumeKey) else Level.READ


def describe(key: VolumeKey | SnapshotKey) -> str:
    if isinstance(key, VolumeKey):
        return f"volume '{key.volume_id}'"
    return f"snapshot '{key.snapshot_id}'"


class Revoker:
    """Stops pods whose mounts are no longer allowed, and asks the spawner to apply it."""

    def __init__(
        self,
        store: Store,
        reconciler: ReconcileRequester | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._reconciler = reconciler
        self._clock = clock

    def revocation(self, key: VolumeKey | SnapshotKey, user: str, by: str) -> Revocation:
        """What the Store records on `user`'s pods if a grant change takes the right to
        mount `key` away."""
        why = f"stopped: {user}'s permission on {describe(key)} was revoked by {by}"
        return Revocation(self._clock(), why)

    async def after_grant_change(self, key: VolumeKey | SnapshotKey, user: str) -> int:
        """Tells the spawner about `user`'s pods mounting `key` that the grant change
        stopped (a stop command is harmless for a pod that was OFF already); their number."""
        level = await self._store.storage_permission(key, user)
        if level is not None and level.allows(needed_to_mount(key)):
            return 0
        pods = [
            p
            for p in await self._store.pods_mounting(key)
            if p.owner == user and p.status_requested is RequestedStatus.OFF
        ]
        for pod in pods:
            await self._publish(pod)
        return len(pods)

    async def before_delete(self, key: VolumeKey | SnapshotKey, by: str) -> int:
        """Stops every pod mounting `key` (a forced delete); the number stopped."""
        pods = await self._store.pods_mounting(key)
        return await self._stop(pods, f"stopped: {describe(key)} is being deleted by {by}")

    async def _stop(self, pods: list[PodRecord], why: str) -> int:
        stopped = 0
        for pod in pods:
            if pod.status_requested is RequestedStatus.OFF:
                continue
            updated = await self._store.set_requested(
                pod.key, RequestedStatus.OFF, self._clock(), why
            )
            if updated is None:
                continue
            stopped += 1
            log.info("%s: %s", pod.key, why)
            await self._publish(pod)
        return stopped

    async def _publish(self, pod: PodRecord) -> None:
        if self._reconciler is None:
            return
        try:
            await self._reconciler.request_reconcile(pod.key, "stop")
        except PodsError as exc:  # recorded; health's resync republishes it
            log.warning("could not publish stop command for %s: %s", pod.key, exc)
