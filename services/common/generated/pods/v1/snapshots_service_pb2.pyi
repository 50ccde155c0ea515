from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from services.common.generated.pods.v1 import volume_pb2 as _volume_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateSnapshotRequest(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: _volume_pb2.Snapshot
    def __init__(self, snapshot: _Optional[_Union[_volume_pb2.Snapshot, _Mapping]] = ...) -> None: ...

class CreateSnapshotResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _volume_pb2.Snapshot
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_volume_pb2.Snapshot, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ListSnapshotsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSnapshotsResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[_volume_pb2.Snapshot]
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Iterable[_Union[_volume_pb2.Snapshot, _Mapping]]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class GetSnapshotRequest(_message.Message):
    __slots__ = ("snapshot_id",)
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    def __init__(self, snapshot_id: _Optional[str] = ...) -> None: ...

class GetSnapshotResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _volume_pb2.Snapshot
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_volume_pb2.Snapshot, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class UpdateSnapshotRequest(_message.Message):
    __slots__ = ("snapshot_id", "snapshot")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    snapshot: _volume_pb2.Snapshot
    def __init__(self, snapshot_id: _Optional[str] = ..., snapshot: _Optional[_Union[_volume_pb2.Snapshot, _Mapping]] = ...) -> None: ...

class UpdateSnapshotResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _volume_pb2.Snapshot
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_volume_pb2.Snapshot, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class DeleteSnapshotRequest(_message.Message):
    __slots__ = ("snapshot_id", "force")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    force: bool
    def __init__(self, snapshot_id: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class DeleteSnapshotResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: str
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[str] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ListSnapshotFilesRequest(_message.Message):
    __slots__ = ("snapshot_id", "path", "recursive", "page_size", "page_token")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    RECURSIVE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    path: str
    recursive: bool
    page_size: int
    page_token: str
    def __init__(self, snapshot_id: _Optional[str] = ..., path: _Optional[str] = ..., recursive: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSnapshotFilesResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata", "next_page_token")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[_volume_pb2.FileInfo]
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    next_page_token: str
    def __init__(self, result: _Optional[_Iterable[_Union[_volume_pb2.FileInfo, _Mapping]]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetSnapshotContentsRequest(_message.Message):
    __slots__ = ("snapshot_id", "path", "zip")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    ZIP_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    path: str
    zip: bool
    def __init__(self, snapshot_id: _Optional[str] = ..., path: _Optional[str] = ..., zip: _Optional[bool] = ...) -> None: ...

class GetSnapshotPermissionsRequest(_message.Message):
    __slots__ = ("snapshot_id",)
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    def __init__(self, snapshot_id: _Optional[str] = ...) -> None: ...

class GetSnapshotPermissionsResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _volume_pb2.StoragePermissions
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_volume_pb2.StoragePermissions, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class SetSnapshotPermissionRequest(_message.Message):
    __slots__ = ("snapshot_id", "user", "level")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    user: str
    level: str
    def __init__(self, snapshot_id: _Optional[str] = ..., user: _Optional[str] = ..., level: _Optional[str] = ...) -> None: ...

class SetSnapshotPermissionResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _volume_pb2.StoragePermissions
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_volume_pb2.StoragePermissions, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class DeleteSnapshotPermissionRequest(_message.Message):
    __slots__ = ("snapshot_id", "user")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    user: str
    def __init__(self, snapshot_id: _Optional[str] = ..., user: _Optional[str] = ...) -> None: ...

class DeleteSnapshotPermissionResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _volume_pb2.StoragePermissions
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_volume_pb2.StoragePermissions, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
