"""The volume store on SpawnerService's wire: the store's data to and from protobuf messages,
and its errors to and from gRPC status codes (the one table both sides use).

Called by services/spawner/storage_servicer.py (the server, wrapping the real store) and
services/api/remote_volumes.py (the client the API uses as its VolumeStore).
"""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from services.common.generated.pods.v1 import spawner_service_pb2 as pb
from services.common.outcomes import PermanentError, TemporaryError
from services.common.storage.types import (
    FileEntry,
    InvalidStorageRequest,
    MountSpec,
    QuotaExceeded,
    SnapshotInfo,
    SnapshotKey,
    StorageConflict,
    StorageKind,
    StorageNotFound,
    VolumeInfo,
    VolumeKey,
)

# The largest message the spawner accepts: an upload the gateway admits (4 MiB of body) plus
# its path and ids (gRPC's default, 4 MiB, is too small for that).
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
SERVER_OPTIONS = (("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),)

# Most specific first: the first matching class decides the code.
_CODES: tuple[tuple[type[Exception], grpc.StatusCode], ...] = (
    (StorageNotFound, grpc.StatusCode.NOT_FOUND),
    (InvalidStorageRequest, grpc.StatusCode.INVALID_ARGUMENT),
    (StorageConflict, grpc.StatusCode.FAILED_PRECONDITION),
    (QuotaExceeded, grpc.StatusCode.OUT_OF_RANGE),  # RESOURCE_EXHAUSTED is gRPC's own
    (PermanentError, grpc.StatusCode.INTERNAL),
    (TemporaryError, grpc.StatusCode.UNAVAILABLE),
)
_ERRORS: dict[grpc.StatusCode, type[Exception]] = {code: error for error, code in _CODES}


def code_for(error: Exception) -> grpc.StatusCode | None:
    """The status code a store error crosses the wire as; None for anything else (a bug)."""
    for kind, code in _CODES:
        if isinstance(error, kind):
            return code
    return None


def error_for(code: grpc.StatusCode, details: str | None) -> Exception:
    """The store error a status code stands for; a TemporaryError for the codes of a
    spawner that did not answer (UNAVAILABLE, DEADLINE_EXCEEDED, UNKNOWN, ...)."""
    kind = _ERRORS.get(code)
    if kind is None:
        return TemporaryError(f"the spawner did not answer: {details or code.name}")
    return kind(details or code.name)


def _timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _datetime(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def storage_ref(key: VolumeKey | SnapshotKey) -> pb.StorageRef:
    if isinstance(key, VolumeKey):
        return pb.StorageRef(
            kind=StorageKind.VOLUME.value, tenant_id=key.tenant_id, id=key.volume_id
        )
    return pb.StorageRef(
        kind=StorageKind.SNAPSHOT.value, tenant_id=key.tenant_id, id=key.snapshot_id
    )


def key_of(ref: pb.StorageRef) -> VolumeKey | SnapshotKey:
    """The key a StorageRef names; InvalidStorageRequest for an unknown kind."""
    if ref.kind == StorageKind.VOLUME.value:
        return VolumeKey(ref.tenant_id, ref.id)
    if ref.kind == StorageKind.SNAPSHOT.value:
        return SnapshotKey(ref.tenant_id, ref.id)
    raise InvalidStorageRequest(f"storage kind must be volume or snapshot, not {ref.kind!r}")


def volume_to_pb(info: VolumeInfo) -> pb.StoredVolume:
    return pb.StoredVolume(
        tenant_id=info.key.tenant_id,
        volume_id=info.key.volume_id,
        name=info.name,
        size_limit_bytes=info.size_limit_bytes,
        created_at=_timestamp(info.created_at),
    )


def volume_from_pb(message: pb.StoredVolume) -> VolumeInfo:
    return VolumeInfo(
        key=VolumeKey(message.tenant_id, message.volume_id),
        name=message.name,
        size_limit_bytes=message.size_limit_bytes,
        created_at=_datetime(message.created_at) if message.HasField("created_at") else None,
    )


def snapshot_to_pb(info: SnapshotInfo) -> pb.StoredSnapshot:
    return pb.StoredSnapshot(
        tenant_id=info.key.tenant_id,
        snapshot_id=info.key.snapshot_id,
        name=info.name,
        source_volume_id=info.source.volume_id,
        source_path=info.source_path,
        created_at=_timestamp(info.created_at),
        size_bytes=info.size_bytes,
    )


def snapshot_from_pb(message: pb.StoredSnapshot) -> SnapshotInfo:
    return SnapshotInfo(
        key=SnapshotKey(message.tenant_id, message.snapshot_id),
        name=message.name,
        source=VolumeKey(message.tenant_id, message.source_volume_id),
        source_path=message.source_path,
        created_at=_datetime(message.created_at) if message.HasField("created_at") else None,
        size_bytes=message.size_bytes if message.HasField("size_bytes") else None,
    )


def file_to_pb(entry: FileEntry) -> pb.StoredFile:
    return pb.StoredFile(
        path=entry.path,
        size=entry.size,
        is_dir=entry.is_dir,
        mtime=_timestamp(entry.mtime),
        is_symlink=entry.is_symlink,
    )


def file_from_pb(message: pb.StoredFile) -> FileEntry:
    return FileEntry(
        path=message.path,
        size=message.size,
        is_dir=message.is_dir,
        mtime=_datetime(message.mtime),
        is_symlink=message.is_symlink,
    )


def mount_to_pb(mount: MountSpec) -> pb.MountStorageResponse:
    return pb.MountStorageResponse(
        kind=mount.kind.value,
        volume_name=mount.volume_name,
        target=mount.target,
        read_only=mount.read_only,
        sub_path=mount.sub_path,
    )


def mount_from_pb(message: pb.MountStorageResponse) -> MountSpec:
    return MountSpec(
        kind=StorageKind(message.kind),
        volume_name=message.volume_name,
        target=message.target,
        read_only=message.read_only,
        sub_path=message.sub_path,
    )
