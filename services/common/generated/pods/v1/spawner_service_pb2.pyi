import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExecInPodRequest(_message.Message):
    __slots__ = ("tenant_id", "pod_id", "argv", "timeout_seconds", "limit_bytes", "user")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    ARGV_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_BYTES_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    pod_id: str
    argv: _containers.RepeatedScalarFieldContainer[str]
    timeout_seconds: float
    limit_bytes: int
    user: str
    def __init__(self, tenant_id: _Optional[str] = ..., pod_id: _Optional[str] = ..., argv: _Optional[_Iterable[str]] = ..., timeout_seconds: _Optional[float] = ..., limit_bytes: _Optional[int] = ..., user: _Optional[str] = ...) -> None: ...

class ExecInPodResponse(_message.Message):
    __slots__ = ("exit_code", "stdout", "stderr", "timed_out")
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    TIMED_OUT_FIELD_NUMBER: _ClassVar[int]
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool
    def __init__(self, exit_code: _Optional[int] = ..., stdout: _Optional[str] = ..., stderr: _Optional[str] = ..., timed_out: _Optional[bool] = ...) -> None: ...

class CopyIntoPodRequest(_message.Message):
    __slots__ = ("tenant_id", "pod_id", "dest_path", "data")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    DEST_PATH_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    pod_id: str
    dest_path: str
    data: bytes
    def __init__(self, tenant_id: _Optional[str] = ..., pod_id: _Optional[str] = ..., dest_path: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class CopyIntoPodResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReconcilePodRequest(_message.Message):
    __slots__ = ("tenant_id", "pod_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    pod_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., pod_id: _Optional[str] = ...) -> None: ...

class ReconcilePodResponse(_message.Message):
    __slots__ = ("outcome",)
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    outcome: str
    def __init__(self, outcome: _Optional[str] = ...) -> None: ...

class ListManagedContainersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ManagedContainer(_message.Message):
    __slots__ = ("name", "tenant_id", "pod_id", "phase", "spec_hash", "exit_code", "error", "started_at", "finished_at", "published", "run")
    class PublishedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: int
        def __init__(self, key: _Optional[int] = ..., value: _Optional[int] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    SPEC_HASH_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    name: str
    tenant_id: str
    pod_id: str
    phase: str
    spec_hash: str
    exit_code: int
    error: str
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    published: _containers.ScalarMap[int, int]
    run: int
    def __init__(self, name: _Optional[str] = ..., tenant_id: _Optional[str] = ..., pod_id: _Optional[str] = ..., phase: _Optional[str] = ..., spec_hash: _Optional[str] = ..., exit_code: _Optional[int] = ..., error: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., published: _Optional[_Mapping[int, int]] = ..., run: _Optional[int] = ...) -> None: ...

class ListManagedContainersResponse(_message.Message):
    __slots__ = ("containers",)
    CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    containers: _containers.RepeatedCompositeFieldContainer[ManagedContainer]
    def __init__(self, containers: _Optional[_Iterable[_Union[ManagedContainer, _Mapping]]] = ...) -> None: ...

class InspectContainerRequest(_message.Message):
    __slots__ = ("tenant_id", "pod_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    pod_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., pod_id: _Optional[str] = ...) -> None: ...

class InspectContainerResponse(_message.Message):
    __slots__ = ("container",)
    CONTAINER_FIELD_NUMBER: _ClassVar[int]
    container: ManagedContainer
    def __init__(self, container: _Optional[_Union[ManagedContainer, _Mapping]] = ...) -> None: ...

class ReadContainerLogsRequest(_message.Message):
    __slots__ = ("tenant_id", "pod_id", "cursor", "limit_bytes")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_BYTES_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    pod_id: str
    cursor: str
    limit_bytes: int
    def __init__(self, tenant_id: _Optional[str] = ..., pod_id: _Optional[str] = ..., cursor: _Optional[str] = ..., limit_bytes: _Optional[int] = ...) -> None: ...

class ReadContainerLogsResponse(_message.Message):
    __slots__ = ("text", "cursor")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    text: str
    cursor: str
    def __init__(self, text: _Optional[str] = ..., cursor: _Optional[str] = ...) -> None: ...

class WatchContainerEventsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WatchContainerEventsResponse(_message.Message):
    __slots__ = ("tenant_id", "pod_id", "action")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    pod_id: str
    action: str
    def __init__(self, tenant_id: _Optional[str] = ..., pod_id: _Optional[str] = ..., action: _Optional[str] = ...) -> None: ...

class StorageRef(_message.Message):
    __slots__ = ("kind", "tenant_id", "id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    kind: str
    tenant_id: str
    id: str
    def __init__(self, kind: _Optional[str] = ..., tenant_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class StoredVolume(_message.Message):
    __slots__ = ("tenant_id", "volume_id", "name", "size_limit_bytes", "created_at")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_LIMIT_BYTES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    volume_id: str
    name: str
    size_limit_bytes: int
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, tenant_id: _Optional[str] = ..., volume_id: _Optional[str] = ..., name: _Optional[str] = ..., size_limit_bytes: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StoredSnapshot(_message.Message):
    __slots__ = ("tenant_id", "snapshot_id", "name", "source_volume_id", "source_path", "created_at", "size_bytes")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PATH_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    snapshot_id: str
    name: str
    source_volume_id: str
    source_path: str
    created_at: _timestamp_pb2.Timestamp
    size_bytes: int
    def __init__(self, tenant_id: _Optional[str] = ..., snapshot_id: _Optional[str] = ..., name: _Optional[str] = ..., source_volume_id: _Optional[str] = ..., source_path: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class StoredFile(_message.Message):
    __slots__ = ("path", "size", "is_dir", "mtime", "is_symlink")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    IS_DIR_FIELD_NUMBER: _ClassVar[int]
    MTIME_FIELD_NUMBER: _ClassVar[int]
    IS_SYMLINK_FIELD_NUMBER: _ClassVar[int]
    path: str
    size: int
    is_dir: bool
    mtime: _timestamp_pb2.Timestamp
    is_symlink: bool
    def __init__(self, path: _Optional[str] = ..., size: _Optional[int] = ..., is_dir: _Optional[bool] = ..., mtime: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., is_symlink: _Optional[bool] = ...) -> None: ...

class CreateStoredVolumeRequest(_message.Message):
    __slots__ = ("tenant_id", "volume_id", "size_limit_bytes")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_LIMIT_BYTES_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    volume_id: str
    size_limit_bytes: int
    def __init__(self, tenant_id: _Optional[str] = ..., volume_id: _Optional[str] = ..., size_limit_bytes: _Optional[int] = ...) -> None: ...

class CreateStoredVolumeResponse(_message.Message):
    __slots__ = ("volume",)
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    volume: StoredVolume
    def __init__(self, volume: _Optional[_Union[StoredVolume, _Mapping]] = ...) -> None: ...

class GetStoredVolumeRequest(_message.Message):
    __slots__ = ("tenant_id", "volume_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    volume_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., volume_id: _Optional[str] = ...) -> None: ...

class GetStoredVolumeResponse(_message.Message):
    __slots__ = ("volume",)
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    volume: StoredVolume
    def __init__(self, volume: _Optional[_Union[StoredVolume, _Mapping]] = ...) -> None: ...

class ListStoredVolumesRequest(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class ListStoredVolumesResponse(_message.Message):
    __slots__ = ("volumes",)
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    volumes: _containers.RepeatedCompositeFieldContainer[StoredVolume]
    def __init__(self, volumes: _Optional[_Iterable[_Union[StoredVolume, _Mapping]]] = ...) -> None: ...

class DeleteStoredVolumeRequest(_message.Message):
    __slots__ = ("tenant_id", "volume_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    volume_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., volume_id: _Optional[str] = ...) -> None: ...

class DeleteStoredVolumeResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    def __init__(self, deleted: _Optional[bool] = ...) -> None: ...

class ListStoredFilesRequest(_message.Message):
    __slots__ = ("storage", "path", "recursive")
    STORAGE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    RECURSIVE_FIELD_NUMBER: _ClassVar[int]
    storage: StorageRef
    path: str
    recursive: bool
    def __init__(self, storage: _Optional[_Union[StorageRef, _Mapping]] = ..., path: _Optional[str] = ..., recursive: _Optional[bool] = ...) -> None: ...

class ListStoredFilesResponse(_message.Message):
    __slots__ = ("files",)
    FILES_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[StoredFile]
    def __init__(self, files: _Optional[_Iterable[_Union[StoredFile, _Mapping]]] = ...) -> None: ...

class UploadStoredFileRequest(_message.Message):
    __slots__ = ("tenant_id", "volume_id", "path", "data")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    volume_id: str
    path: str
    data: bytes
    def __init__(self, tenant_id: _Optional[str] = ..., volume_id: _Optional[str] = ..., path: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class UploadStoredFileResponse(_message.Message):
    __slots__ = ("file",)
    FILE_FIELD_NUMBER: _ClassVar[int]
    file: StoredFile
    def __init__(self, file: _Optional[_Union[StoredFile, _Mapping]] = ...) -> None: ...

class DownloadStoredFileRequest(_message.Message):
    __slots__ = ("storage", "path")
    STORAGE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    storage: StorageRef
    path: str
    def __init__(self, storage: _Optional[_Union[StorageRef, _Mapping]] = ..., path: _Optional[str] = ...) -> None: ...

class DownloadStoredFileResponse(_message.Message):
    __slots__ = ("chunk",)
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    def __init__(self, chunk: _Optional[bytes] = ...) -> None: ...

class MeasureStoredUsageRequest(_message.Message):
    __slots__ = ("storage",)
    STORAGE_FIELD_NUMBER: _ClassVar[int]
    storage: StorageRef
    def __init__(self, storage: _Optional[_Union[StorageRef, _Mapping]] = ...) -> None: ...

class MeasureStoredUsageResponse(_message.Message):
    __slots__ = ("usage_bytes",)
    USAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    usage_bytes: int
    def __init__(self, usage_bytes: _Optional[int] = ...) -> None: ...

class CreateStoredSnapshotRequest(_message.Message):
    __slots__ = ("source_tenant_id", "source_volume_id", "tenant_id", "snapshot_id", "source_path", "size_limit_bytes")
    SOURCE_TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_LIMIT_BYTES_FIELD_NUMBER: _ClassVar[int]
    source_tenant_id: str
    source_volume_id: str
    tenant_id: str
    snapshot_id: str
    source_path: str
    size_limit_bytes: int
    def __init__(self, source_tenant_id: _Optional[str] = ..., source_volume_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., snapshot_id: _Optional[str] = ..., source_path: _Optional[str] = ..., size_limit_bytes: _Optional[int] = ...) -> None: ...

class CreateStoredSnapshotResponse(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: StoredSnapshot
    def __init__(self, snapshot: _Optional[_Union[StoredSnapshot, _Mapping]] = ...) -> None: ...

class GetStoredSnapshotRequest(_message.Message):
    __slots__ = ("tenant_id", "snapshot_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    snapshot_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., snapshot_id: _Optional[str] = ...) -> None: ...

class GetStoredSnapshotResponse(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: StoredSnapshot
    def __init__(self, snapshot: _Optional[_Union[StoredSnapshot, _Mapping]] = ...) -> None: ...

class ListStoredSnapshotsRequest(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class ListStoredSnapshotsResponse(_message.Message):
    __slots__ = ("snapshots",)
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    snapshots: _containers.RepeatedCompositeFieldContainer[StoredSnapshot]
    def __init__(self, snapshots: _Optional[_Iterable[_Union[StoredSnapshot, _Mapping]]] = ...) -> None: ...

class DeleteStoredSnapshotRequest(_message.Message):
    __slots__ = ("tenant_id", "snapshot_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    snapshot_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., snapshot_id: _Optional[str] = ...) -> None: ...

class DeleteStoredSnapshotResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    def __init__(self, deleted: _Optional[bool] = ...) -> None: ...

class MountStorageRequest(_message.Message):
    __slots__ = ("storage", "mount_path", "sub_path", "read_only", "kind")
    STORAGE_FIELD_NUMBER: _ClassVar[int]
    MOUNT_PATH_FIELD_NUMBER: _ClassVar[int]
    SUB_PATH_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    storage: StorageRef
    mount_path: str
    sub_path: str
    read_only: bool
    kind: str
    def __init__(self, storage: _Optional[_Union[StorageRef, _Mapping]] = ..., mount_path: _Optional[str] = ..., sub_path: _Optional[str] = ..., read_only: _Optional[bool] = ..., kind: _Optional[str] = ...) -> None: ...

class MountStorageResponse(_message.Message):
    __slots__ = ("kind", "volume_name", "target", "read_only", "sub_path")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VOLUME_NAME_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    SUB_PATH_FIELD_NUMBER: _ClassVar[int]
    kind: str
    volume_name: str
    target: str
    read_only: bool
    sub_path: str
    def __init__(self, kind: _Optional[str] = ..., volume_name: _Optional[str] = ..., target: _Optional[str] = ..., read_only: _Optional[bool] = ..., sub_path: _Optional[str] = ...) -> None: ...
