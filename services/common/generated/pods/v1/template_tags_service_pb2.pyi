from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from services.common.generated.pods.v1 import pod_pb2 as _pod_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PodDefinition(_message.Message):
    __slots__ = ("image", "template", "description", "command", "arguments", "environment_variables", "volume_mounts", "time_to_stop_default", "time_to_stop_instance", "networking", "resources", "compute_queue")
    class EnvironmentVariablesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class VolumeMountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _pod_pb2.VolumeMount
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_pod_pb2.VolumeMount, _Mapping]] = ...) -> None: ...
    class NetworkingEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _pod_pb2.Networking
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_pod_pb2.Networking, _Mapping]] = ...) -> None: ...
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_VARIABLES_FIELD_NUMBER: _ClassVar[int]
    VOLUME_MOUNTS_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_STOP_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_STOP_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    NETWORKING_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_QUEUE_FIELD_NUMBER: _ClassVar[int]
    image: str
    template: str
    description: str
    command: _containers.RepeatedScalarFieldContainer[str]
    arguments: _containers.RepeatedScalarFieldContainer[str]
    environment_variables: _containers.ScalarMap[str, str]
    volume_mounts: _containers.MessageMap[str, _pod_pb2.VolumeMount]
    time_to_stop_default: int
    time_to_stop_instance: int
    networking: _containers.MessageMap[str, _pod_pb2.Networking]
    resources: _pod_pb2.Resources
    compute_queue: str
    def __init__(self, image: _Optional[str] = ..., template: _Optional[str] = ..., description: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., arguments: _Optional[_Iterable[str]] = ..., environment_variables: _Optional[_Mapping[str, str]] = ..., volume_mounts: _Optional[_Mapping[str, _pod_pb2.VolumeMount]] = ..., time_to_stop_default: _Optional[int] = ..., time_to_stop_instance: _Optional[int] = ..., networking: _Optional[_Mapping[str, _pod_pb2.Networking]] = ..., resources: _Optional[_Union[_pod_pb2.Resources, _Mapping]] = ..., compute_queue: _Optional[str] = ...) -> None: ...

class TemplateTag(_message.Message):
    __slots__ = ("template_id", "pod_definition", "commit_message", "tag", "tag_timestamp", "added_by", "creation_ts")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    POD_DEFINITION_FIELD_NUMBER: _ClassVar[int]
    COMMIT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    TAG_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ADDED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATION_TS_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    pod_definition: PodDefinition
    commit_message: str
    tag: str
    tag_timestamp: str
    added_by: str
    creation_ts: str
    def __init__(self, template_id: _Optional[str] = ..., pod_definition: _Optional[_Union[PodDefinition, _Mapping]] = ..., commit_message: _Optional[str] = ..., tag: _Optional[str] = ..., tag_timestamp: _Optional[str] = ..., added_by: _Optional[str] = ..., creation_ts: _Optional[str] = ...) -> None: ...

class TemplateWithTags(_message.Message):
    __slots__ = ("template_id", "description", "metatags", "archive_message", "creation_ts", "update_ts", "owner", "tags")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METATAGS_FIELD_NUMBER: _ClassVar[int]
    ARCHIVE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CREATION_TS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TS_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    description: str
    metatags: _containers.RepeatedScalarFieldContainer[str]
    archive_message: str
    creation_ts: str
    update_ts: str
    owner: str
    tags: _containers.RepeatedCompositeFieldContainer[TemplateTag]
    def __init__(self, template_id: _Optional[str] = ..., description: _Optional[str] = ..., metatags: _Optional[_Iterable[str]] = ..., archive_message: _Optional[str] = ..., creation_ts: _Optional[str] = ..., update_ts: _Optional[str] = ..., owner: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[TemplateTag, _Mapping]]] = ...) -> None: ...

class ListTemplatesAndTagsRequest(_message.Message):
    __slots__ = ("full",)
    FULL_FIELD_NUMBER: _ClassVar[int]
    full: bool
    def __init__(self, full: _Optional[bool] = ...) -> None: ...

class ListTemplatesAndTagsResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    class ResultEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: TemplateWithTags
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[TemplateWithTags, _Mapping]] = ...) -> None: ...
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _containers.MessageMap[str, TemplateWithTags]
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Mapping[str, TemplateWithTags]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ListTemplateTagsRequest(_message.Message):
    __slots__ = ("template_id", "full")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    FULL_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    full: bool
    def __init__(self, template_id: _Optional[str] = ..., full: _Optional[bool] = ...) -> None: ...

class ListTemplateTagsResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[TemplateTag]
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Iterable[_Union[TemplateTag, _Mapping]]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class AddTemplateTagRequest(_message.Message):
    __slots__ = ("template_id", "pod_definition", "commit_message", "tag")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    POD_DEFINITION_FIELD_NUMBER: _ClassVar[int]
    COMMIT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    pod_definition: PodDefinition
    commit_message: str
    tag: str
    def __init__(self, template_id: _Optional[str] = ..., pod_definition: _Optional[_Union[PodDefinition, _Mapping]] = ..., commit_message: _Optional[str] = ..., tag: _Optional[str] = ...) -> None: ...

class AddTemplateTagResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: TemplateTag
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[TemplateTag, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class GetTemplateTagRequest(_message.Message):
    __slots__ = ("template_id", "tag_id")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    TAG_ID_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    tag_id: str
    def __init__(self, template_id: _Optional[str] = ..., tag_id: _Optional[str] = ...) -> None: ...

class GetTemplateTagResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[TemplateTag]
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Iterable[_Union[TemplateTag, _Mapping]]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class SavePodAsTemplateTagRequest(_message.Message):
    __slots__ = ("pod_id_net", "template_id", "commit_message", "tag")
    POD_ID_NET_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    COMMIT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    pod_id_net: str
    template_id: str
    commit_message: str
    tag: str
    def __init__(self, pod_id_net: _Optional[str] = ..., template_id: _Optional[str] = ..., commit_message: _Optional[str] = ..., tag: _Optional[str] = ...) -> None: ...

class SavePodAsTemplateTagResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: TemplateTag
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[TemplateTag, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class GetDerivedPodRequest(_message.Message):
    __slots__ = ("pod_id",)
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    def __init__(self, pod_id: _Optional[str] = ...) -> None: ...

class GetDerivedPodResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _pod_pb2.Pod
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_pod_pb2.Pod, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
