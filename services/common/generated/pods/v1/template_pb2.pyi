from google.api import field_behavior_pb2 as _field_behavior_pb2
from services.common.generated.pods.v1 import pod_pb2 as _pod_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Template(_message.Message):
    __slots__ = ("template_id", "description", "metatags", "archive_message", "image", "networking", "environment_variables", "credentials", "creation_ts", "update_ts", "owner", "read_only_root")
    class NetworkingEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _pod_pb2.Networking
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_pod_pb2.Networking, _Mapping]] = ...) -> None: ...
    class EnvironmentVariablesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METATAGS_FIELD_NUMBER: _ClassVar[int]
    ARCHIVE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    NETWORKING_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_VARIABLES_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    CREATION_TS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TS_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_ROOT_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    description: str
    metatags: _containers.RepeatedScalarFieldContainer[str]
    archive_message: str
    image: str
    networking: _containers.MessageMap[str, _pod_pb2.Networking]
    environment_variables: _containers.ScalarMap[str, str]
    credentials: CredentialsRecipe
    creation_ts: str
    update_ts: str
    owner: str
    read_only_root: bool
    def __init__(self, template_id: _Optional[str] = ..., description: _Optional[str] = ..., metatags: _Optional[_Iterable[str]] = ..., archive_message: _Optional[str] = ..., image: _Optional[str] = ..., networking: _Optional[_Mapping[str, _pod_pb2.Networking]] = ..., environment_variables: _Optional[_Mapping[str, str]] = ..., credentials: _Optional[_Union[CredentialsRecipe, _Mapping]] = ..., creation_ts: _Optional[str] = ..., update_ts: _Optional[str] = ..., owner: _Optional[str] = ..., read_only_root: _Optional[bool] = ...) -> None: ...

class CredentialsRecipe(_message.Message):
    __slots__ = ("username", "environment_variables")
    class EnvironmentVariablesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_VARIABLES_FIELD_NUMBER: _ClassVar[int]
    username: str
    environment_variables: _containers.ScalarMap[str, str]
    def __init__(self, username: _Optional[str] = ..., environment_variables: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ImageRule(_message.Message):
    __slots__ = ("image", "description", "tenants", "creation_ts", "added_by")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TENANTS_FIELD_NUMBER: _ClassVar[int]
    CREATION_TS_FIELD_NUMBER: _ClassVar[int]
    ADDED_BY_FIELD_NUMBER: _ClassVar[int]
    image: str
    description: str
    tenants: _containers.RepeatedScalarFieldContainer[str]
    creation_ts: str
    added_by: str
    def __init__(self, image: _Optional[str] = ..., description: _Optional[str] = ..., tenants: _Optional[_Iterable[str]] = ..., creation_ts: _Optional[str] = ..., added_by: _Optional[str] = ...) -> None: ...
