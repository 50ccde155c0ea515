"""Converts between the VolumesService and SnapshotsService messages and domain records, and
streams downloaded files as raw REST bodies. Called by volumes_servicer.py,
snapshots_servicer.py and enveloped.py."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from google.api import httpbody_pb2

from services.api.domain.volume_inputs import (
    SnapshotRequest,
    SnapshotUpdate,
    VolumeRequest,
    VolumeUpdate,
)
from services.api.transport.convert import timestamp
from services.common.generated.pods.v1 import volume_pb2
from services.common.storage.chunks import ChunkStream
from services.common.storage.types import FileEntry
from services.common.volumes_model import SnapshotRecord, VolumeRecord, mib_rounded_up

AVAILABLE = "AVAILABLE"


def _stored_fields(record: VolumeRecord | SnapshotRecord) -> dict[str, Any]:
    """The fields volumes and snapshots share, as callers see them (sizes in MiB)."""
    return {
        "description": record.description,
        "size_limit": record.size_limit_mib,
        "size": mib_rounded_up(record.size_bytes),
        "status": AVAILABLE,
        "creation_ts": timestamp(record.creation_ts),
        "update_ts": timestamp(record.update_ts),
        "tenant_id": record.key.tenant_id,
        "owner": record.owner,
    }


def volume_message(record: VolumeRecord) -> volume_pb2.Volume:
    """The Volume resource as callers see it."""
    return volume_pb2.Volume(volume_id=record.key.volume_id, **_stored_fields(record))


def snapshot_message(record: SnapshotRecord) -> volume_pb2.Snapshot:
    """The Snapshot resource as callers see it; Tapis fields not supported stay empty."""
    return volume_pb2.Snapshot(
        snapshot_id=record.key.snapshot_id,
        source_volume_id=record.source_volume_id,
        source_volume_path=record.source_volume_path,
        **_stored_fields(record),
    )


def volume_request(volume: volume_pb2.Volume) -> VolumeRequest:
    return VolumeRequest(
        volume_id=volume.volume_id,
        description=volume.description,
        size_limit_mib=volume.size_limit if volume.HasField("size_limit") else None,
    )


def volume_update(volume: volume_pb2.Volume, volume_id: str) -> VolumeUpdate:
    """Optional fields count as given when present."""
    return VolumeUpdate(
        volume_id=volume_id,
        description=volume.description if volume.HasField("description") else None,
        size_limit_mib=volume.size_limit if volume.HasField("size_limit") else None,
    )


def snapshot_request(snapshot: volume_pb2.Snapshot) -> SnapshotRequest:
    return SnapshotRequest(
        snapshot_id=snapshot.snapshot_id,
        source_volume_id=snapshot.source_volume_id,
        source_volume_path=snapshot.source_volume_path,
        description=snapshot.description,
        size_limit_mib=snapshot.size_limit if snapshot.HasField("size_limit") else None,
        destination_path=snapshot.destination_path,
        cron=snapshot.cron,
        retention_policy=snapshot.retention_policy,
    )


def snapshot_update(snapshot: volume_pb2.Snapshot, snapshot_id: str) -> SnapshotUpdate:
    """Optional fields count as given when present, the others when not empty."""
    return SnapshotUpdate(
        snapshot_id=snapshot_id,
        description=snapshot.description if snapshot.HasField("description") else None,
        size_limit_mib=snapshot.size_limit if snapshot.HasField("size_limit") else None,
        cron=snapshot.cron or None,
        retention_policy=snapshot.retention_policy or None,
    )


def file_message(entry: FileEntry) -> volume_pb2.FileInfo:
    """Tapis's FileModel of one listed entry."""
    kind = "dir" if entry.is_dir else "symbolic_link" if entry.is_symlink else "file"
    return volume_pb2.FileInfo(
        path=entry.path,
        name=entry.path.rpartition("/")[2],
        type=kind,
        size=entry.size,
        lastModified=entry.mtime.strftime("%Y-%m-%dT%H:%M:%SZ"),
        nativePermissions="",
    )


async def file_bodies(chunks: ChunkStream) -> AsyncIterator[httpbody_pb2.HttpBody]:
    """A downloaded file as the messages of a streamed raw REST body: the first carries the
    content type, each one chunk. The stream is closed however the call ends (a client
    going away stops the reading at once)."""
    async with contextlib.aclosing(chunks):
        content_type = "application/octet-stream"
        async for chunk in chunks:
            yield httpbody_pb2.HttpBody(content_type=content_type, data=chunk)
            content_type = ""
