"""Grants (READ, USER, ADMIN per user, or to everyone) on pods, volumes, snapshots and
templates: read, set, remove, with the last ADMIN of an object kept under concurrent
demotions; a revocation on a volume or snapshot asks the user's pods mounting it to be OFF in
the same transaction.

Used by services/api/domain/access.py (every grant change and level check) through the
Protocols of services/api/domain/ports.py; the module functions make and delete the grant
rows that repositories/catalog.py and storage_records.py create and delete with the object.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from services.common.db.models import PodPermissionRow, PodRow, StoragePermissionRow
from services.common.db.pod_rows import request
from services.common.db.sessions import Sessions
from services.common.pods_model import Level, MountType, RequestedStatus
from services.common.records import (
    EVERYONE,
    LastAdminError,
    Revocation,
    StorageKey,
    StorageObjectKey,
    TemplateKey,
)
from services.common.runtime.types import PodKey, StorageKind
from services.common.storage.types import VolumeKey

# Runs inside a grant change's transaction with the user's new level (None: removed).
_AfterChange = Callable[[Any, Level | None], Awaitable[None]]


def storage_ref(key: StorageObjectKey) -> tuple[str, str, str]:
    """(tenant, kind, object id) of a volume, snapshot or template, as the grants table keys it."""
    if isinstance(key, VolumeKey):
        return key.tenant_id, StorageKind.VOLUME.value, key.volume_id
    if isinstance(key, TemplateKey):
        return key.tenant_id, "template", key.template_id
    return key.tenant_id, StorageKind.SNAPSHOT.value, key.snapshot_id


def describe(key: StorageObjectKey) -> str:
    """How messages name the object: "volume 'v1'"."""
    _, kind, object_id = storage_ref(key)
    return f"{kind} '{object_id}'"


def grant_row(key: StorageObjectKey, username: str, level: Level) -> StoragePermissionRow:
    """A new grant row on a volume, snapshot or template."""
    tenant_id, kind, object_id = storage_ref(key)
    return StoragePermissionRow(
        tenant_id=tenant_id,
        kind=kind,
        object_id=object_id,
        username=username,
        level=level.value,
    )


async def delete_grants(session: Any, key: StorageObjectKey) -> None:
    """Deletes every grant on the object (it is being deleted)."""
    await session.execute(delete(StoragePermissionRow).where(*_storage_grants(key).where))


@dataclass(frozen=True)
class _Grants:
    """One object's grants: their table (PodPermissionRow or StoragePermissionRow, both with
    username and level), the clause selecting them, how a new grant row is made, and how
    errors name the object."""

    table: Any
    where: tuple[Any, ...]
    new_row: Callable[[str, Level], Any]
    whose: str


def _storage_grants(key: StorageObjectKey) -> _Grants:
    tenant_id, kind, object_id = storage_ref(key)
    return _Grants(
        table=StoragePermissionRow,
        where=(
            StoragePermissionRow.tenant_id == tenant_id,
            StoragePermissionRow.kind == kind,
            StoragePermissionRow.object_id == object_id,
        ),
        new_row=lambda username, level: grant_row(key, username, level),
        whose=f"{describe(key)}'s",
    )


class GrantRepository:
    """Grant rows of every kind of object. Connection-level failures leave every method as
    DatabaseUnavailableError (a TemporaryError)."""

    def __init__(self, sessions: Sessions) -> None:
        self._session = sessions

    async def permission(self, key: PodKey, username: str) -> Level | None:
        """The user's level on the pod, or None."""
        return await self._level(self._pod_grants(key), username)

    async def permissions(self, key: PodKey) -> list[tuple[str, Level]]:
        """Every grant on the pod, sorted by user."""
        async with self._session() as session:
            return await self._list_grants(session, self._pod_grants(key))

    async def set_permission(self, key: PodKey, username: str, level: Level) -> None:
        """Grants `level` (replacing any other); LastAdminError if that demotes the last
        ADMIN."""
        await self._set_grant(self._pod_grants(key), username, level)

    async def delete_permission(self, key: PodKey, username: str) -> bool:
        """Removes the user's grant; False if there was none; LastAdminError if it is the
        last ADMIN."""
        return await self._delete_grant(self._pod_grants(key), username)

    async def storage_permission(self, key: StorageKey, username: str) -> Level | None:
        """The user's level on the volume or snapshot, or None."""
        return await self._level(_storage_grants(key), username)

    async def storage_permissions(self, key: StorageKey) -> list[tuple[str, Level]]:
        """Every grant on the volume or snapshot, sorted by user."""
        async with self._session() as session:
            return await self._list_grants(session, _storage_grants(key))

    async def set_storage_permission(
        self,
        key: StorageKey,
        username: str,
        level: Level,
        revoked: Revocation | None = None,
    ) -> None:
        """Grants `level` (replacing any other); LastAdminError if that demotes the last
        ADMIN. With `revoked`, when the new level no longer lets the user mount the volume
        or snapshot, the user's pods mounting it are asked to be OFF in the same transaction
        (see `Revocation`)."""
        after = self._stop_mounting(key, username, revoked) if revoked else None
        await self._set_grant(_storage_grants(key), username, level, after)

    async def delete_storage_permission(
        self, key: StorageKey, username: str, revoked: Revocation | None = None
    ) -> bool:
        """Removes the user's grant; False if there was none; LastAdminError if it is the
        last ADMIN. `revoked` as for set_storage_permission."""
        after = self._stop_mounting(key, username, revoked) if revoked else None
        return await self._delete_grant(_storage_grants(key), username, after)

    async def template_level(self, key: TemplateKey, username: str) -> Level | None:
        """The user's level on the template: their own grant or the everyone grant."""
        levels = await self.template_levels(key.tenant_id, username, key.template_id)
        return levels.get(key.template_id)

    async def template_levels(
        self, tenant_id: str, username: str, template_id: str | None = None
    ) -> dict[str, Level]:
        """The user's level on every template of the tenant they may see (or on one), from
        their own grants and the everyone grants, in one query."""
        query = select(StoragePermissionRow.object_id, StoragePermissionRow.level).where(
            StoragePermissionRow.tenant_id == tenant_id,
            StoragePermissionRow.kind == "template",
            StoragePermissionRow.username.in_([username, EVERYONE]),
        )
        if template_id is not None:
            query = query.where(StoragePermissionRow.object_id == template_id)
        levels: dict[str, Level] = {}
        async with self._session() as session:
            for object_id, raw in (await session.execute(query)).all():
                level = Level(raw)
                if object_id not in levels or level.rank > levels[object_id].rank:
                    levels[object_id] = level
        return levels

    async def template_permissions(self, key: TemplateKey) -> list[tuple[str, Level]]:
        """Every grant on the template (EVERYONE included), sorted by user."""
        async with self._session() as session:
            return await self._list_grants(session, _storage_grants(key))

    async def set_template_permission(self, key: TemplateKey, username: str, level: Level) -> None:
        """Grants `level` on the template (replacing any other); LastAdminError if that
        demotes the last ADMIN."""
        await self._set_grant(_storage_grants(key), username, level)

    async def delete_template_permission(self, key: TemplateKey, username: str) -> bool:
        """Removes the user's grant on the template; False if there was none; LastAdminError
        if it is the last ADMIN."""
        return await self._delete_grant(_storage_grants(key), username)

    @staticmethod
    def _pod_grants(key: PodKey) -> _Grants:
        return _Grants(
            table=PodPermissionRow,
            where=(
                PodPermissionRow.tenant_id == key.tenant_id,
                PodPermissionRow.pod_id == key.pod_id,
            ),
            new_row=lambda username, level: PodPermissionRow(
                tenant_id=key.tenant_id,
                pod_id=key.pod_id,
                username=username,
                level=level.value,
            ),
            whose="the pod's",
        )

    async def _level(self, grants: _Grants, username: str) -> Level | None:
        async with self._session() as session:
            level = await session.scalar(
                select(grants.table.level).where(*grants.where, grants.table.username == username)
            )
            return Level(level) if level else None

    @staticmethod
    async def _list_grants(session: Any, grants: _Grants) -> list[tuple[str, Level]]:
        rows = await session.execute(
            select(grants.table.username, grants.table.level)
            .where(*grants.where)
            .order_by(grants.table.username)
        )
        return [(user, Level(level)) for user, level in rows.all()]

    async def _set_grant(
        self, grants: _Grants, username: str, level: Level, after: _AfterChange | None = None
    ) -> None:
        async with self._session.begin() as session:
            await self._lock_grants(session, grants)
            current = dict(await self._list_grants(session, grants))
            if current.get(username) is Level.ADMIN and level is not Level.ADMIN:
                self._keep_an_admin(current, username, grants.whose)
            row = await session.scalar(
                select(grants.table).where(*grants.where, grants.table.username == username)
            )
            if row is None:
                session.add(grants.new_row(username, level))
            else:
                row.level = level.value
            if after is not None:
                await after(session, level)

    async def _delete_grant(
        self, grants: _Grants, username: str, after: _AfterChange | None = None
    ) -> bool:
        async with self._session.begin() as session:
            await self._lock_grants(session, grants)
            current = dict(await self._list_grants(session, grants))
            if username not in current:
                return False
            if current[username] is Level.ADMIN:
                self._keep_an_admin(current, username, grants.whose)
            await session.execute(
                delete(grants.table).where(*grants.where, grants.table.username == username)
            )
            if after is not None:
                await after(session, None)
            return True

    @staticmethod
    async def _lock_grants(session: Any, grants: _Grants) -> None:
        """Serialises changes to one object's grants for the rest of the transaction: a
        no-op write as its first statement row-locks the grants on PostgreSQL (a concurrent
        change waits, then reads what this one committed) and takes SQLite's write lock before
        anything is read. Keeps two concurrent demotions from removing the last ADMIN."""
        await session.execute(
            update(grants.table).where(*grants.where).values(level=grants.table.level)
        )

    @staticmethod
    def _keep_an_admin(grants: dict[str, Level], leaving: str, whose: str) -> None:
        if not any(level is Level.ADMIN for user, level in grants.items() if user != leaving):
            raise LastAdminError(
                f"{leaving} is {whose} last ADMIN; grant ADMIN to another user first"
            )

    @staticmethod
    def _stop_mounting(key: StorageKey, username: str, revoked: Revocation) -> _AfterChange:
        """What a grant change does next: stop `username`'s pods mounting `key` unless the
        new level still allows mounting it (USER on a volume, READ on a snapshot)."""
        tenant_id, _, object_id = storage_ref(key)
        needed = Level.USER if isinstance(key, VolumeKey) else Level.READ
        mount_type = MountType.VOLUME if isinstance(key, VolumeKey) else MountType.SNAPSHOT

        async def stop(session: Any, level: Level | None) -> None:
            if level is not None and level.allows(needed):
                return
            rows = await session.scalars(
                select(PodRow).where(
                    PodRow.tenant_id == tenant_id,
                    PodRow.owner == username,
                    PodRow.deletion_requested.is_(False),
                    PodRow.status_requested != RequestedStatus.OFF.value,
                )
            )
            for row in rows.all():
                mount = row.spec.get("volume_mounts", {}).get(object_id)
                if mount is not None and mount.get("type") == mount_type.value:
                    request(row, RequestedStatus.OFF, revoked.now, revoked.why)

        return stop
