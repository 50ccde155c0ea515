from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from services.common.generated.pods.v1 import pod_pb2 as _pod_pb2
from services.common.generated.pods.v1 import pod_watch_pb2 as _pod_watch_pb2
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
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPodsResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata", "next_page_token")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[_pod_pb2.Pod]
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    next_page_token: str
    def __init__(self, result: _Optional[_Iterable[_Union[_pod_pb2.Pod, _Mapping]]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("pod_id", "grab_latest_template_tag")
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    GRAB_LATEST_TEMPLATE_TAG_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    grab_latest_template_tag: bool
    def __init__(self, pod_id: _Optional[str] = ..., grab_latest_template_tag: _Optional[bool] = ...) -> None: ...

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
    __slots__ = ("pod_id", "grab_latest_template_tag")
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    GRAB_LATEST_TEMPLATE_TAG_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    grab_latest_template_tag: bool
    def __init__(self, pod_id: _Optional[str] = ..., grab_latest_template_tag: _Optional[bool] = ...) -> None: ...

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
    result: _pod_pb2.PodPermissions
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_pod_pb2.PodPermissions, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

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
    result: _pod_pb2.PodPermissions
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_pod_pb2.PodPermissions, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

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
    result: _pod_pb2.PodPermissions
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[_pod_pb2.PodPermissions, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

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

class ExecPodCommandsRequest(_message.Message):
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

class ExecutionResult(_message.Message):
    __slots__ = ("command", "stdout", "stderr", "success", "duration_sec", "timestamp", "exit_code", "timed_out")
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    DURATION_SEC_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    TIMED_OUT_FIELD_NUMBER: _ClassVar[int]
    command: _containers.RepeatedScalarFieldContainer[str]
    stdout: str
    stderr: str
    success: bool
    duration_sec: float
    timestamp: str
    exit_code: int
    timed_out: bool
    def __init__(self, command: _Optional[_Iterable[str]] = ..., stdout: _Optional[str] = ..., stderr: _Optional[str] = ..., success: _Optional[bool] = ..., duration_sec: _Optional[float] = ..., timestamp: _Optional[str] = ..., exit_code: _Optional[int] = ..., timed_out: _Optional[bool] = ...) -> None: ...

class ExecutionResults(_message.Message):
    __slots__ = ("execution_results", "total_commands", "successful_commands")
    EXECUTION_RESULTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COMMANDS_FIELD_NUMBER: _ClassVar[int]
    SUCCESSFUL_COMMANDS_FIELD_NUMBER: _ClassVar[int]
    execution_results: _containers.RepeatedCompositeFieldContainer[ExecutionResult]
    total_commands: int
    successful_commands: int
    def __init__(self, execution_results: _Optional[_Iterable[_Union[ExecutionResult, _Mapping]]] = ..., total_commands: _Optional[int] = ..., successful_commands: _Optional[int] = ...) -> None: ...

class ExecPodCommandsResponse(_message.Message):
    __slots__ = ("result", "status", "message", "version", "metadata")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    result: ExecutionResults
    status: str
    message: str
    version: str
    metadata: _struct_pb2.Struct
    def __init__(self, result: _Optional[_Union[ExecutionResults, _Mapping]] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

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
