"""Access control for every object the api shares: pods, templates, volumes and snapshots.

One set of rules for all four kinds. Levels are READ < USER < ADMIN; tenant admins may do
everything. Resolving an object: it must exist, and a caller without any grant on it is told
it does not exist (NotFoundError, so other users' objects do not leak); a caller with a grant
too low for the action gets PermissionDeniedError naming what is needed. Grants are set and
removed here, and at least one ADMIN is always left (the repository checks that under
concurrent demotions; LastAdminError becomes FailedPreconditionError).

Revocation: when a user's grant on a volume or snapshot is lowered or removed, that user's pods
mounting it are stopped (status_requested OFF, the reason in their action_logs, in the grant
change's own transaction: the repository's `Revocation`) and the spawner is told at once; when a
volume or snapshot is deleted with `force`, every pod mounting it is stopped the same way. A pod
mounts a volume with its owner's USER permission (READ for a snapshot); starting a pod checks
that again (domain/volumes.py `authorize_start`), so a stopped pod cannot be started back into
access its owner lost.

Called by domain/pods.py, domain/catalog.py and domain/volumes.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from services.api.domain.ports import ApiStore, ReconcileRequester
from services.api.domain.principal import Principal
from services.api.domain.validation import validate_pod_id
from services.api.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from services.common.outcomes import PodsError
from services.common.pods_model import Level, PodRecord, RequestedStatus
from services.common.records import EVERYONE, LastAdminError, Revocation, TemplateKey
from services.common.runtime.types import PodKey
from services.common.storage.types import SnapshotKey, VolumeKey
from services.common.templates import TemplateDef
from services.common.volumes_model import SnapshotRecord, VolumeRecord

log = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")

ObjectKey = PodKey | TemplateKey | VolumeKey | SnapshotKey
Grants = list[tuple[str, Level]]


def parse_level(value: str) -> Level:
    """A permission level named by the caller; InvalidArgumentError naming `level`."""
    try:
        return Level(value)
    except ValueError:
        raise InvalidArgumentError("level", "must be READ, USER or ADMIN") from None


def check_username(value: str) -> str:
    """A user name as grants accept it; InvalidArgumentError naming `user`."""
    if not USERNAME_RE.fullmatch(value):
        raise InvalidArgumentError(
            "user", "must be 1-128 letters, digits, '_', '.', '@' or '-', starting alphanumeric"
        )
    return value


def describe(key: ObjectKey) -> str:
    """How messages name the object: "volume 'data'"."""
    if isinstance(key, PodKey):
        return f"pod '{key.pod_id}'"
    if isinstance(key, TemplateKey):
        return f"template '{key.template_id}'"
    if isinstance(key, VolumeKey):
        return f"volume '{key.volume_id}'"
    return f"snapshot '{key.snapshot_id}'"


def needed_to_mount(key: VolumeKey | SnapshotKey) -> Level:
    """USER mounts a volume, READ a snapshot."""
    return Level.USER if isinstance(key, VolumeKey) else Level.READ


def require(who: Principal, level: Level | None, needed: Level, what: str, purpose: str) -> None:
    """The 404-or-403 rule: NotFoundError without any grant, PermissionDeniedError with one
    below `needed`; tenant admins pass."""
    if who.is_admin:
        return
    if level is None:
        raise NotFoundError(f"{what} not found")
    if not level.allows(needed):
        why = f" {purpose}" if purpose else ""
        raise PermissionDeniedError(
            f"this needs {needed.value} permission on {what}{why}; you have {level.value}"
        )


class Access:
    """Resolves objects for a caller, and reads and changes their grants."""

    def __init__(
        self,
        store: ApiStore,
        clock: Callable[[], datetime],
        reconciler: ReconcileRequester | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._reconciler = reconciler

    # -- resolve or 404 --------------------------------------------------------------------

    async def pod(self, who: Principal, pod_id: str, needed: Level) -> PodRecord:
        """The pod if the caller holds `needed` on it (its level read with it, in one query)."""
        validate_pod_id(pod_id)
        found = await self._store.pods.pod_and_level(PodKey(who.tenant_id, pod_id), who.username)
        if found is None:
            raise NotFoundError(f"pod '{pod_id}' not found")
        record, level = found
        require(who, level, needed, f"pod '{pod_id}'", "")
        return record

    async def template(self, who: Principal, template_id: str, needed: Level) -> TemplateDef:
        """The template if the caller holds `needed` on it."""
        template = await self._store.catalog.get_template(who.tenant_id, template_id)
        if template is None:
            raise NotFoundError(f"template '{template_id}' not found")
        await self._require(who, TemplateKey(who.tenant_id, template_id), needed, "")
        return template

    async def volume(
        self, who: Principal, key: VolumeKey, needed: Level, purpose: str = ""
    ) -> VolumeRecord:
        """The volume if the caller holds `needed` on it (`purpose` ends the 403 message)."""
        record = await self._store.storage.get_volume(key)
        if record is None:
            raise NotFoundError(f"{describe(key)} not found")
        await self._require(who, key, needed, purpose)
        return record

    async def snapshot(
        self, who: Principal, key: SnapshotKey, needed: Level, purpose: str = ""
    ) -> SnapshotRecord:
        """The snapshot if the caller holds `needed` on it (see `volume`)."""
        record = await self._store.storage.get_snapshot(key)
        if record is None:
            raise NotFoundError(f"{describe(key)} not found")
        await self._require(who, key, needed, purpose)
        return record

    async def level(self, key: TemplateKey | VolumeKey | SnapshotKey, user: str) -> Level | None:
        """The user's level on a template (their grant or everyone's), volume or snapshot."""
        if isinstance(key, TemplateKey):
            return await self._store.grants.template_level(key, user)
        return await self._store.grants.storage_permission(key, user)

    async def _require(
        self, who: Principal, key: TemplateKey | VolumeKey | SnapshotKey, needed: Level, why: str
    ) -> None:
        if who.is_admin:
            return
        require(who, await self.level(key, who.username), needed, describe(key), why)

    # -- grants ----------------------------------------------------------------------------

    async def grants(self, key: ObjectKey) -> Grants:
        """Every grant on the object, sorted by user."""
        if isinstance(key, PodKey):
            return await self._store.grants.permissions(key)
        if isinstance(key, TemplateKey):
            return await self._store.grants.template_permissions(key)
        return await self._store.grants.storage_permissions(key)

    async def grant(self, who: Principal, key: ObjectKey, user: str, level: str) -> Grants:
        """Gives `user` `level` on the object (the caller was resolved with ADMIN); everyone
        ('*') may be given READ or USER on a template. Lowering a grant on a volume or snapshot
        stops the user's pods that may no longer mount it."""
        grant = parse_level(level)
        grants = self._store.grants
        if isinstance(key, TemplateKey) and user == EVERYONE and grant is Level.ADMIN:
            raise InvalidArgumentError("level", "everyone ('*') can be given READ or USER only")
        try:
            if isinstance(key, PodKey):
                await grants.set_permission(key, check_username(user), grant)
            elif isinstance(key, TemplateKey):
                name = user if user == EVERYONE else check_username(user)
                await grants.set_template_permission(key, name, grant)
            else:
                revoked = self._revocation(key, user, who.username)
                await grants.set_storage_permission(key, check_username(user), grant, revoked)
        except LastAdminError as exc:
            raise FailedPreconditionError(str(exc)) from None
        if isinstance(key, VolumeKey | SnapshotKey):
            await self._after_grant_change(key, user)
        return await self.grants(key)

    async def revoke(self, who: Principal, key: ObjectKey, user: str) -> Grants:
        """Removes `user`'s grant on the object; NotFoundError if there is none. Removing a
        grant on a volume or snapshot stops the user's pods mounting it."""
        grants = self._store.grants
        try:
            if isinstance(key, PodKey):
                removed = await grants.delete_permission(key, check_username(user))
            elif isinstance(key, TemplateKey):
                removed = await grants.delete_template_permission(key, user)
            else:
                revoked = self._revocation(key, user, who.username)
                removed = await grants.delete_storage_permission(key, check_username(user), revoked)
        except LastAdminError as exc:
            raise FailedPreconditionError(str(exc)) from None
        if not removed:
            shown = user[:64] if isinstance(key, TemplateKey) else user
            raise NotFoundError(f"user '{shown}' has no permission on {describe(key)}")
        if isinstance(key, VolumeKey | SnapshotKey):
            await self._after_grant_change(key, user)
        return await self.grants(key)

    # -- revocation ------------------------------------------------------------------------

    async def stop_mounting(self, key: VolumeKey | SnapshotKey, by: str) -> int:
        """Stops every pod mounting `key` (a forced delete); the number stopped."""
        pods = await self._store.pods.pods_mounting(key)
        return await self._stop(pods, f"stopped: {describe(key)} is being deleted by {by}")

    def _revocation(self, key: VolumeKey | SnapshotKey, user: str, by: str) -> Revocation:
        """What the repository records on `user`'s pods if a grant change takes the right to
        mount `key` away."""
        why = f"stopped: {user}'s permission on {describe(key)} was revoked by {by}"
        return Revocation(self._clock(), why)

    async def _after_grant_change(self, key: VolumeKey | SnapshotKey, user: str) -> int:
        """Tells the spawner about `user`'s pods mounting `key` that the grant change
        stopped (a stop command is harmless for a pod that was OFF already); their number."""
        level = await self._store.grants.storage_permission(key, user)
        if level is not None and level.allows(needed_to_mount(key)):
            return 0
        pods = [
            p
            for p in await self._store.pods.pods_mounting(key)
            if p.owner == user and p.status_requested is RequestedStatus.OFF
        ]
        for pod in pods:
            await self._publish(pod)
        return len(pods)

    async def _stop(self, pods: list[PodRecord], why: str) -> int:
        stopped = 0
        for pod in pods:
            if pod.status_requested is RequestedStatus.OFF:
                continue
            updated = await self._store.pods.set_requested(
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
