from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from services.common.generated.pods.v1 import pod_pb2 as _pod_pb2
from services.common.generated.pods.v1 import template_pb2 as _template_pb2
from services.common.generated.pods.v1 import volume_pb2 as _volume_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreatePodRequest(_message.Message):
    __slots__ = ("pod",)
    POD_FIELD_NUMBER: _ClassVar[int]
    pod: _pod_pb2.Pod
    def __init__(self, pod: _Optional[_Union[_pod_pb2.Pod, _Mapping]] = ...) -> None: ...

class CreatePodResponse(_message.Message):
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

class ListPodsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPodsResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[_pod_pb2.Pod]
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Iterable[_Union[_pod_pb2.Pod, _Mapping]]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class GetPodRequest(_message.Message):
    __slots__ = ("pod_id",)
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    def __init__(self, pod_id: _Optional[str] = ...) -> None: ...

class GetPodResponse(_message.Message):
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

class DeletePodRequest(_message.Message):
    __slots__ = ("pod_id",)
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    def __init__(self, pod_id: _Optional[str] = ...) -> None: ...

class DeletePodResponse(_message.Message):
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

class GetPodLogsRequest(_message.Message):
    __slots__ = ("pod_id", "previous")
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    previous: int
    def __init__(self, pod_id: _Optional[str] = ..., previous: _Optional[int] = ...) -> None: ...

class GetPodLogsResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _pod_pb2.PodLogs
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_pod_pb2.PodLogs, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class GetPodCredentialsRequest(_message.Message):
    __slots__ = ("pod_id",)
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    def __init__(self, pod_id: _Optional[str] = ...) -> None: ...

class GetPodCredentialsResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _pod_pb2.PodCredentials
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_pod_pb2.PodCredentials, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class UpdatePodRequest(_message.Message):
    __slots__ = ("pod_id", "pod", "update_mask")
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    POD_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    pod: _pod_pb2.Pod
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, pod_id: _Optional[str] = ..., pod: _Optional[_Union[_pod_pb2.Pod, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdatePodResponse(_message.Message):
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

class StartPodRequest(_message.Message):
    __slots__ = ("pod_id",)
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    def __init__(self, pod_id: _Optional[str] = ...) -> None: ...

class StartPodResponse(_message.Message):
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

class StopPodRequest(_message.Message):
    __slots__ = ("pod_id",)
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    def __init__(self, pod_id: _Optional[str] = ...) -> None: ...

class StopPodResponse(_message.Message):
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

class RestartPodRequest(_message.Message):
    __slots__ = ("pod_id",)
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    def __init__(self, pod_id: _Optional[str] = ...) -> None: ...

class RestartPodResponse(_message.Message):
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

class PodPermissions(_message.Message):
    __slots__ = ("permissions",)
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    permissions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, permissions: _Optional[_Iterable[str]] = ...) -> None: ...

class GetPodPermissionsRequest(_message.Message):
    __slots__ = ("pod_id",)
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    def __init__(self, pod_id: _Optional[str] = ...) -> None: ...

class GetPodPermissionsResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: PodPermissions
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[PodPermissions, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class SetPodPermissionRequest(_message.Message):
    __slots__ = ("pod_id", "user", "level")
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    user: str
    level: str
    def __init__(self, pod_id: _Optional[str] = ..., user: _Optional[str] = ..., level: _Optional[str] = ...) -> None: ...

class SetPodPermissionResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: PodPermissions
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[PodPermissions, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class DeletePodPermissionRequest(_message.Message):
    __slots__ = ("pod_id", "user")
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    user: str
    def __init__(self, pod_id: _Optional[str] = ..., user: _Optional[str] = ...) -> None: ...

class DeletePodPermissionResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: PodPermissions
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[PodPermissions, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ExecPodRequest(_message.Message):
    __slots__ = ("pod_id", "commands", "total_timeout", "command_timeout", "fail_on_non_success")
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    COMMANDS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    COMMAND_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    FAIL_ON_NON_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    commands: _struct_pb2.ListValue
    total_timeout: int
    command_timeout: int
    fail_on_non_success: bool
    def __init__(self, pod_id: _Optional[str] = ..., commands: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., total_timeout: _Optional[int] = ..., command_timeout: _Optional[int] = ..., fail_on_non_success: _Optional[bool] = ...) -> None: ...

class ExecOutput(_message.Message):
    __slots__ = ("command", "exit_code", "stdout", "stderr", "timed_out")
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    TIMED_OUT_FIELD_NUMBER: _ClassVar[int]
    command: _containers.RepeatedScalarFieldContainer[str]
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool
    def __init__(self, command: _Optional[_Iterable[str]] = ..., exit_code: _Optional[int] = ..., stdout: _Optional[str] = ..., stderr: _Optional[str] = ..., timed_out: _Optional[bool] = ...) -> None: ...

class ExecPodResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[ExecOutput]
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Iterable[_Union[ExecOutput, _Mapping]]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ListTemplatesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTemplatesResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[_template_pb2.Template]
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Iterable[_Union[_template_pb2.Template, _Mapping]]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class GetTemplateRequest(_message.Message):
    __slots__ = ("template_id",)
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    def __init__(self, template_id: _Optional[str] = ...) -> None: ...

class GetTemplateResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _template_pb2.Template
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_template_pb2.Template, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class CreateTemplateRequest(_message.Message):
    __slots__ = ("template",)
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    template: _template_pb2.Template
    def __init__(self, template: _Optional[_Union[_template_pb2.Template, _Mapping]] = ...) -> None: ...

class CreateTemplateResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _template_pb2.Template
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_template_pb2.Template, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class UpdateTemplateRequest(_message.Message):
    __slots__ = ("template_id", "template")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    template: _template_pb2.Template
    def __init__(self, template_id: _Optional[str] = ..., template: _Optional[_Union[_template_pb2.Template, _Mapping]] = ...) -> None: ...

class UpdateTemplateResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _template_pb2.Template
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_template_pb2.Template, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class DeleteTemplateRequest(_message.Message):
    __slots__ = ("template_id",)
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    def __init__(self, template_id: _Optional[str] = ...) -> None: ...

class DeleteTemplateResponse(_message.Message):
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

class ListImagesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListImagesResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[_template_pb2.ImageRule]
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Iterable[_Union[_template_pb2.ImageRule, _Mapping]]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class AddImageRequest(_message.Message):
    __slots__ = ("image",)
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    image: _template_pb2.ImageRule
    def __init__(self, image: _Optional[_Union[_template_pb2.ImageRule, _Mapping]] = ...) -> None: ...

class AddImageResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: _template_pb2.ImageRule
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_template_pb2.ImageRule, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class DeleteImageRequest(_message.Message):
    __slots__ = ("image_id",)
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    image_id: str
    def __init__(self, image_id: _Optional[str] = ...) -> None: ...

class DeleteImageResponse(_message.Message):
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

class GetTemplatePermissionsRequest(_message.Message):
    __slots__ = ("template_id",)
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    def __init__(self, template_id: _Optional[str] = ...) -> None: ...

class GetTemplatePermissionsResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: PodPermissions
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[PodPermissions, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class SetTemplatePermissionRequest(_message.Message):
    __slots__ = ("template_id", "user", "level")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    user: str
    level: str
    def __init__(self, template_id: _Optional[str] = ..., user: _Optional[str] = ..., level: _Optional[str] = ...) -> None: ...

class SetTemplatePermissionResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: PodPermissions
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[PodPermissions, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class DeleteTemplatePermissionRequest(_message.Message):
    __slots__ = ("template_id", "user")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    user: str
    def __init__(self, template_id: _Optional[str] = ..., user: _Optional[str] = ...) -> None: ...

class DeleteTemplatePermissionResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: PodPermissions
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[PodPermissions, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class QuotaLimits(_message.Message):
    __slots__ = ("pods", "volumes", "cpu_millis", "mem_mib", "storage_mib")
    PODS_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    CPU_MILLIS_FIELD_NUMBER: _ClassVar[int]
    MEM_MIB_FIELD_NUMBER: _ClassVar[int]
    STORAGE_MIB_FIELD_NUMBER: _ClassVar[int]
    pods: int
    volumes: int
    cpu_millis: int
    mem_mib: int
    storage_mib: int
    def __init__(self, pods: _Optional[int] = ..., volumes: _Optional[int] = ..., cpu_millis: _Optional[int] = ..., mem_mib: _Optional[int] = ..., storage_mib: _Optional[int] = ...) -> None: ...

class Quota(_message.Message):
    __slots__ = ("username", "limits", "use", "overridden")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    USE_FIELD_NUMBER: _ClassVar[int]
    OVERRIDDEN_FIELD_NUMBER: _ClassVar[int]
    username: str
    limits: QuotaLimits
    use: QuotaLimits
    overridden: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, username: _Optional[str] = ..., limits: _Optional[_Union[QuotaLimits, _Mapping]] = ..., use: _Optional[_Union[QuotaLimits, _Mapping]] = ..., overridden: _Optional[_Iterable[str]] = ...) -> None: ...

class GetQuotaRequest(_message.Message):
    __slots__ = ("username",)
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    username: str
    def __init__(self, username: _Optional[str] = ...) -> None: ...

class GetQuotaResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: Quota
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[Quota, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class SetQuotaRequest(_message.Message):
    __slots__ = ("username", "limits")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    username: str
    limits: QuotaLimits
    def __init__(self, username: _Optional[str] = ..., limits: _Optional[_Union[QuotaLimits, _Mapping]] = ...) -> None: ...

class SetQuotaResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: Quota
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[Quota, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
