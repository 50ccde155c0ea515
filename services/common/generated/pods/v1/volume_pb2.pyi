from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Volume(_message.Message):
    __slots__ = ("volume_id", "description", "size_limit", "size", "status", "creation_ts", "update_ts", "tenant_id", "owner")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SIZE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATION_TS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TS_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    description: str
    size_limit: int
    size: int
    status: str
    creation_ts: str
    update_ts: str
    tenant_id: str
    owner: str
    def __init__(self, volume_id: _Optional[str] = ..., description: _Optional[str] = ..., size_limit: _Optional[int] = ..., size: _Optional[int] = ..., status: _Optional[str] = ..., creation_ts: _Optional[str] = ..., update_ts: _Optional[str] = ..., tenant_id: _Optional[str] = ..., owner: _Optional[str] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("snapshot_id", "source_volume_id", "source_volume_path", "destination_path", "description", "size_limit", "cron", "retention_policy", "size", "status", "creation_ts", "update_ts", "tenant_id", "owner")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_VOLUME_PATH_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_PATH_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SIZE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    CRON_FIELD_NUMBER: _ClassVar[int]
    RETENTION_POLICY_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATION_TS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TS_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    source_volume_id: str
    source_volume_path: str
    destination_path: str
    description: str
    size_limit: int
    cron: str
    retention_policy: str
    size: int
    status: str
    creation_ts: str
    update_ts: str
    tenant_id: str
    owner: str
    def __init__(self, snapshot_id: _Optional[str] = ..., source_volume_id: _Optional[str] = ..., source_volume_path: _Optional[str] = ..., destination_path: _Optional[str] = ..., description: _Optional[str] = ..., size_limit: _Optional[int] = ..., cron: _Optional[str] = ..., retention_policy: _Optional[str] = ..., size: _Optional[int] = ..., status: _Optional[str] = ..., creation_ts: _Optional[str] = ..., update_ts: _Optional[str] = ..., tenant_id: _Optional[str] = ..., owner: _Optional[str] = ...) -> None: ...

class FileInfo(_message.Message):
    __slots__ = ("path", "name", "type", "size", "lastModified", "nativePermissions")
    PATH_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    LASTMODIFIED_FIELD_NUMBER: _ClassVar[int]
    NATIVEPERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    path: str
    name: str
    type: str
    size: int
    lastModified: str
    nativePermissions: str
    def __init__(self, path: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[str] = ..., size: _Optional[int] = ..., lastModified: _Optional[str] = ..., nativePermissions: _Optional[str] = ...) -> None: ...

class StoragePermissions(_message.Message):
    __slots__ = ("permissions",)
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    permissions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, permissions: _Optional[_Iterable[str]] = ...) -> None: ...
