"""Volume and snapshot records: create (the owner as ADMIN, within the owner's quota), read,
list, list those a user has a grant on, update, delete (with their grants).

Used by services/api/domain/volumes.py through the Protocols of services/api/domain/ports.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from services.common.db import quotas
from services.common.db.mapping import snapshot_record, volume_record
from services.common.db.models import SnapshotRow, StoragePermissionRow, VolumeRow
from services.common.db.repositories.grants import delete_grants, describe, grant_row
from services.common.db.sessions import Sessions
from services.common.pods_model import Level
from services.common.quotas_model import Quota
from services.common.records import AlreadyExistsError, StorageKey
from services.common.runtime.types import StorageKind
from services.common.storage.types import SnapshotKey, VolumeKey
from services.common.volumes_model import SnapshotRecord, VolumeRecord


class StorageRecordRepository:
    """Volume and snapshot rows. Connection-level failures leave every method as
    DatabaseUnavailableError (a TemporaryError)."""

    def __init__(self, sessions: Sessions) -> None:
        self._session = sessions

    async def create_volume(self, record: VolumeRecord, quota: Quota | None = None) -> VolumeRecord:
        """Inserts a volume with its owner as ADMIN; AlreadyExistsError if the id is taken;
        QuotaExceededError if the owner's `quota` has no room for it."""
        row = VolumeRow(
            tenant_id=record.key.tenant_id,
            volume_id=record.key.volume_id,
            owner=record.owner,
            description=record.description,
            size_limit_mib=record.size_limit_mib,
            size_bytes=record.size_bytes,
            creation_ts=record.creation_ts,
            update_ts=record.update_ts,
        )
        await self._insert_with_owner(row, record.key, record.owner, quota)
        return volume_record(row)

    async def get_volume(self, key: VolumeKey) -> VolumeRecord | None:
        async with self._session() as session:
            row = await self._volume_row(session, key)
            return volume_record(row) if row else None

    async def list_volumes(self, tenant_id: str) -> list[VolumeRecord]:
        """Every volume of the tenant, ordered by volume_id."""
        query = (
            select(VolumeRow).where(VolumeRow.tenant_id == tenant_id).order_by(VolumeRow.volume_id)
        )
        async with self._session() as session:
            return [volume_record(r) for r in (await session.scalars(query)).all()]

    async def readable_volumes(self, tenant_id: str, username: str) -> list[VolumeRecord]:
        """Volumes of the tenant on which the user has any permission, ordered by volume_id."""
        query = (
            select(VolumeRow)
            .join(
                StoragePermissionRow,
                (StoragePermissionRow.tenant_id == VolumeRow.tenant_id)
                & (StoragePermissionRow.kind == StorageKind.VOLUME.value)
                & (StoragePermissionRow.object_id == VolumeRow.volume_id),
            )
            .where(VolumeRow.tenant_id == tenant_id, StoragePermissionRow.username == username)
            .order_by(VolumeRow.volume_id)
        )
        async with self._session() as session:
            return [volume_record(r) for r in (await session.scalars(query)).all()]

    async def update_volume(
        self,
        key: VolumeKey,
        now: datetime,
        *,
        description: str | None = None,
        size_bytes: int | None = None,
    ) -> VolumeRecord | None:
        """Changes the description and/or records a measured size; None if absent. A new
        measurement alone leaves update_ts alone (it is not a change of the record)."""
        async with self._session.begin() as session:
            row = await self._volume_row(session, key)
            if row is None:
                return None
            if description is not None and description != row.description:
                row.description = description
                row.update_ts = now
            if size_bytes is not None:
                row.size_bytes = size_bytes
            return volume_record(row)

    async def delete_volume(self, key: VolumeKey) -> bool:
        """Deletes the volume's row and grants; False if there was none."""
        async with self._session.begin() as session:
            await delete_grants(session, key)
            result = await session.execute(
                delete(VolumeRow).where(
                    VolumeRow.tenant_id == key.tenant_id, VolumeRow.volume_id == key.volume_id
                )
            )
            return bool(getattr(result, "rowcount", 0))

    async def create_snapshot(
        self, record: SnapshotRecord, quota: Quota | None = None
    ) -> SnapshotRecord:
        """Inserts a snapshot with its owner as ADMIN; AlreadyExistsError if the id is taken;
        QuotaExceededError if the owner's `quota` has no room for it."""
        row = SnapshotRow(
            tenant_id=record.key.tenant_id,
            snapshot_id=record.key.snapshot_id,
            owner=record.owner,
            description=record.description,
            size_limit_mib=record.size_limit_mib,
            source_volume_id=record.source_volume_id,
            source_volume_path=record.source_volume_path,
            size_bytes=record.size_bytes,
            creation_ts=record.creation_ts,
            update_ts=record.update_ts,
        )
        await self._insert_with_owner(row, record.key, record.owner, quota)
        return snapshot_record(row)

    async def get_snapshot(self, key: SnapshotKey) -> SnapshotRecord | None:
        async with self._session() as session:
            row = await self._snapshot_row(session, key)
            return snapshot_record(row) if row else None

    async def list_snapshots(self, tenant_id: str) -> list[SnapshotRecord]:
        """Every snapshot of the tenant, ordered by snapshot_id."""
        query = (
            select(SnapshotRow)
            .where(SnapshotRow.tenant_id == tenant_id)
            .order_by(SnapshotRow.snapshot_id)
        )
        async with self._session() as session:
            return [snapshot_record(r) for r in (await session.scalars(query)).all()]

    async def readable_snapshots(self, tenant_id: str, username: str) -> list[SnapshotRecord]:
        """Snapshots of the tenant on which the user has any permission, by snapshot_id."""
        query = (
            select(SnapshotRow)
            .join(
                StoragePermissionRow,
                (StoragePermissionRow.tenant_id == SnapshotRow.tenant_id)
                & (StoragePermissionRow.kind == StorageKind.SNAPSHOT.value)
                & (StoragePermissionRow.object_id == SnapshotRow.snapshot_id),
            )
            .where(SnapshotRow.tenant_id == tenant_id, StoragePermissionRow.username == username)
            .order_by(SnapshotRow.snapshot_id)
        )
        async with self._session() as session:
            return [snapshot_record(r) for r in (await session.scalars(query)).all()]

    async def update_snapshot(
        self, key: SnapshotKey, now: datetime, *, description: str
    ) -> SnapshotRecord | None:
        """Changes the description; None if absent."""
        async with self._session.begin() as session:
            row = await self._snapshot_row(session, key)
            if row is None:
                return None
            if description != row.description:
                row.description = description
                row.update_ts = now
            return snapshot_record(row)

    async def delete_snapshot(self, key: SnapshotKey) -> bool:
        """Deletes the snapshot's row and grants; False if there was none."""
        async with self._session.begin() as session:
            await delete_grants(session, key)
            result = await session.execute(
                delete(SnapshotRow).where(
                    SnapshotRow.tenant_id == key.tenant_id,
                    SnapshotRow.snapshot_id == key.snapshot_id,
                )
            )
            return bool(getattr(result, "rowcount", 0))

    async def _insert_with_owner(
        self,
        row: VolumeRow | SnapshotRow,
        key: StorageKey,
        owner: str,
        quota: Quota | None,
    ) -> None:
        if quota is not None:
            await quotas.ensure_row(self._session, row.tenant_id, owner)
        try:
            async with self._session.begin() as session:
                if quota is not None:
                    charge = Quota(volumes=1, storage_mib=row.size_limit_mib)
                    await quotas.check(session, row.tenant_id, owner, quota, charge)
                session.add(row)
                await session.flush()  # the object's row first: a duplicate fails here
                session.add(grant_row(key, owner, Level.ADMIN))
        except IntegrityError:
            raise AlreadyExistsError(f"{describe(key)} already exists") from None

    @staticmethod
    async def _volume_row(session: Any, key: VolumeKey) -> VolumeRow | None:
        row: VolumeRow | None = await session.scalar(
            select(VolumeRow).where(
                VolumeRow.tenant_id == key.tenant_id, VolumeRow.volume_id == key.volume_id
            )
        )
        return row

    @staticmethod
    async def _snapshot_row(session: Any, key: SnapshotKey) -> SnapshotRow | None:
        row: SnapshotRow | None = await session.scalar(
            select(SnapshotRow).where(
                SnapshotRow.tenant_id == key.tenant_id, SnapshotRow.snapshot_id == key.snapshot_id
            )
        )
        return row
