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

class CreateVolumeRequest(_message.Message):
    __slots__ = ("volume",)
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    volume: _volume_pb2.Volume
    def __init__(self, volume: _Optional[_Union[_volume_pb2.Volume, _Mapping]] = ...) -> None: ...

class CreateVolumeResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _volume_pb2.Volume
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_volume_pb2.Volume, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ListVolumesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListVolumesResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[_volume_pb2.Volume]
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Iterable[_Union[_volume_pb2.Volume, _Mapping]]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class GetVolumeRequest(_message.Message):
    __slots__ = ("volume_id",)
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    def __init__(self, volume_id: _Optional[str] = ...) -> None: ...

class GetVolumeResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _volume_pb2.Volume
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_volume_pb2.Volume, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class UpdateVolumeRequest(_message.Message):
    __slots__ = ("volume_id", "volume")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    volume: _volume_pb2.Volume
    def __init__(self, volume_id: _Optional[str] = ..., volume: _Optional[_Union[_volume_pb2.Volume, _Mapping]] = ...) -> None: ...

class UpdateVolumeResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _volume_pb2.Volume
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_volume_pb2.Volume, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class DeleteVolumeRequest(_message.Message):
    __slots__ = ("volume_id", "force")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    force: bool
    def __init__(self, volume_id: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class DeleteVolumeResponse(_message.Message):
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

class ListVolumeFilesRequest(_message.Message):
    __slots__ = ("volume_id", "path", "recursive", "page_size", "page_token")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    RECURSIVE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    path: str
    recursive: bool
    page_size: int
    page_token: str
    def __init__(self, volume_id: _Optional[str] = ..., path: _Optional[str] = ..., recursive: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListVolumeFilesResponse(_message.Message):
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

class UploadToVolumeRequest(_message.Message):
    __slots__ = ("volume_id", "path", "file")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    path: str
    file: _httpbody_pb2.HttpBody
    def __init__(self, volume_id: _Optional[str] = ..., path: _Optional[str] = ..., file: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class UploadToVolumeResponse(_message.Message):
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

class GetVolumeContentsRequest(_message.Message):
    __slots__ = ("volume_id", "path", "zip")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    ZIP_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    path: str
    zip: bool
    def __init__(self, volume_id: _Optional[str] = ..., path: _Optional[str] = ..., zip: _Optional[bool] = ...) -> None: ...

class GetVolumePermissionsRequest(_message.Message):
    __slots__ = ("volume_id",)
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    def __init__(self, volume_id: _Optional[str] = ...) -> None: ...

class GetVolumePermissionsResponse(_message.Message):
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

class SetVolumePermissionRequest(_message.Message):
    __slots__ = ("volume_id", "user", "level")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    user: str
    level: str
    def __init__(self, volume_id: _Optional[str] = ..., user: _Optional[str] = ..., level: _Optional[str] = ...) -> None: ...

class SetVolumePermissionResponse(_message.Message):
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

class DeleteVolumePermissionRequest(_message.Message):
    __slots__ = ("volume_id", "user")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    user: str
    def __init__(self, volume_id: _Optional[str] = ..., user: _Optional[str] = ...) -> None: ...

class DeleteVolumePermissionResponse(_message.Message):
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
