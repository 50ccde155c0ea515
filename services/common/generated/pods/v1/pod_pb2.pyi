from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Pod(_message.Message):
    __slots__ = ("pod_id", "image", "template", "description", "command", "arguments", "environment_variables", "status_requested", "volume_mounts", "time_to_stop_default", "time_to_stop_instance", "networking", "resources", "compute_queue", "status", "status_container", "time_to_stop_ts", "creation_ts", "update_ts", "start_instance_ts", "tenant_id", "owner", "generation", "observed_generation", "reconciling", "restart_count", "last_exit_reason", "next_restart_ts", "pod_template")
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
        value: VolumeMount
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[VolumeMount, _Mapping]] = ...) -> None: ...
    class NetworkingEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Networking
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Networking, _Mapping]] = ...) -> None: ...
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_VARIABLES_FIELD_NUMBER: _ClassVar[int]
    STATUS_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    VOLUME_MOUNTS_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_STOP_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_STOP_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    NETWORKING_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_QUEUE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_CONTAINER_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_STOP_TS_FIELD_NUMBER: _ClassVar[int]
    CREATION_TS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TS_FIELD_NUMBER: _ClassVar[int]
    START_INSTANCE_TS_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_GENERATION_FIELD_NUMBER: _ClassVar[int]
    RECONCILING_FIELD_NUMBER: _ClassVar[int]
    RESTART_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_EXIT_REASON_FIELD_NUMBER: _ClassVar[int]
    NEXT_RESTART_TS_FIELD_NUMBER: _ClassVar[int]
    POD_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    image: str
    template: str
    description: str
    command: _containers.RepeatedScalarFieldContainer[str]
    arguments: _containers.RepeatedScalarFieldContainer[str]
    environment_variables: _containers.ScalarMap[str, str]
    status_requested: str
    volume_mounts: _containers.MessageMap[str, VolumeMount]
    time_to_stop_default: int
    time_to_stop_instance: int
    networking: _containers.MessageMap[str, Networking]
    resources: Resources
    compute_queue: str
    status: str
    status_container: StatusContainer
    time_to_stop_ts: str
    creation_ts: str
    update_ts: str
    start_instance_ts: str
    tenant_id: str
    owner: str
    generation: int
    observed_generation: int
    reconciling: bool
    restart_count: int
    last_exit_reason: str
    next_restart_ts: str
    pod_template: str
    def __init__(self, pod_id: _Optional[str] = ..., image: _Optional[str] = ..., template: _Optional[str] = ..., description: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., arguments: _Optional[_Iterable[str]] = ..., environment_variables: _Optional[_Mapping[str, str]] = ..., status_requested: _Optional[str] = ..., volume_mounts: _Optional[_Mapping[str, VolumeMount]] = ..., time_to_stop_default: _Optional[int] = ..., time_to_stop_instance: _Optional[int] = ..., networking: _Optional[_Mapping[str, Networking]] = ..., resources: _Optional[_Union[Resources, _Mapping]] = ..., compute_queue: _Optional[str] = ..., status: _Optional[str] = ..., status_container: _Optional[_Union[StatusContainer, _Mapping]] = ..., time_to_stop_ts: _Optional[str] = ..., creation_ts: _Optional[str] = ..., update_ts: _Optional[str] = ..., start_instance_ts: _Optional[str] = ..., tenant_id: _Optional[str] = ..., owner: _Optional[str] = ..., generation: _Optional[int] = ..., observed_generation: _Optional[int] = ..., reconciling: _Optional[bool] = ..., restart_count: _Optional[int] = ..., last_exit_reason: _Optional[str] = ..., next_restart_ts: _Optional[str] = ..., pod_template: _Optional[str] = ...) -> None: ...

class Networking(_message.Message):
    __slots__ = ("protocol", "port", "url", "tapis_auth", "tapis_auth_response_headers", "tapis_auth_allowed_users", "tapis_auth_return_path", "ip_allow_list", "cors_allow_origins", "cors_allow_methods", "cors_allow_headers", "cors_allow_credentials", "cors_max_age", "tapis_ui_uri", "tapis_ui_uri_redirect", "tapis_ui_uri_description")
    class TapisAuthResponseHeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    TAPIS_AUTH_FIELD_NUMBER: _ClassVar[int]
    TAPIS_AUTH_RESPONSE_HEADERS_FIELD_NUMBER: _ClassVar[int]
    TAPIS_AUTH_ALLOWED_USERS_FIELD_NUMBER: _ClassVar[int]
    TAPIS_AUTH_RETURN_PATH_FIELD_NUMBER: _ClassVar[int]
    IP_ALLOW_LIST_FIELD_NUMBER: _ClassVar[int]
    CORS_ALLOW_ORIGINS_FIELD_NUMBER: _ClassVar[int]
    CORS_ALLOW_METHODS_FIELD_NUMBER: _ClassVar[int]
    CORS_ALLOW_HEADERS_FIELD_NUMBER: _ClassVar[int]
    CORS_ALLOW_CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    CORS_MAX_AGE_FIELD_NUMBER: _ClassVar[int]
    TAPIS_UI_URI_FIELD_NUMBER: _ClassVar[int]
    TAPIS_UI_URI_REDIRECT_FIELD_NUMBER: _ClassVar[int]
    TAPIS_UI_URI_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    protocol: str
    port: int
    url: str
    tapis_auth: bool
    tapis_auth_response_headers: _containers.ScalarMap[str, str]
    tapis_auth_allowed_users: _containers.RepeatedScalarFieldContainer[str]
    tapis_auth_return_path: str
    ip_allow_list: _containers.RepeatedScalarFieldContainer[str]
    cors_allow_origins: _containers.RepeatedScalarFieldContainer[str]
    cors_allow_methods: _containers.RepeatedScalarFieldContainer[str]
    cors_allow_headers: _containers.RepeatedScalarFieldContainer[str]
    cors_allow_credentials: bool
    cors_max_age: int
    tapis_ui_uri: str
    tapis_ui_uri_redirect: bool
    tapis_ui_uri_description: str
    def __init__(self, protocol: _Optional[str] = ..., port: _Optional[int] = ..., url: _Optional[str] = ..., tapis_auth: _Optional[bool] = ..., tapis_auth_response_headers: _Optional[_Mapping[str, str]] = ..., tapis_auth_allowed_users: _Optional[_Iterable[str]] = ..., tapis_auth_return_path: _Optional[str] = ..., ip_allow_list: _Optional[_Iterable[str]] = ..., cors_allow_origins: _Optional[_Iterable[str]] = ..., cors_allow_methods: _Optional[_Iterable[str]] = ..., cors_allow_headers: _Optional[_Iterable[str]] = ..., cors_allow_credentials: _Optional[bool] = ..., cors_max_age: _Optional[int] = ..., tapis_ui_uri: _Optional[str] = ..., tapis_ui_uri_redirect: _Optional[bool] = ..., tapis_ui_uri_description: _Optional[str] = ...) -> None: ...

class Resources(_message.Message):
    __slots__ = ("cpu_request", "cpu_limit", "mem_request", "mem_limit", "gpus")
    CPU_REQUEST_FIELD_NUMBER: _ClassVar[int]
    CPU_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MEM_REQUEST_FIELD_NUMBER: _ClassVar[int]
    MEM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    GPUS_FIELD_NUMBER: _ClassVar[int]
    cpu_request: int
    cpu_limit: int
    mem_request: int
    mem_limit: int
    gpus: int
    def __init__(self, cpu_request: _Optional[int] = ..., cpu_limit: _Optional[int] = ..., mem_request: _Optional[int] = ..., mem_limit: _Optional[int] = ..., gpus: _Optional[int] = ...) -> None: ...

class VolumeMount(_message.Message):
    __slots__ = ("type", "mount_path", "sub_path", "read_only")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MOUNT_PATH_FIELD_NUMBER: _ClassVar[int]
    SUB_PATH_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    type: str
    mount_path: str
    sub_path: str
    read_only: bool
    def __init__(self, type: _Optional[str] = ..., mount_path: _Optional[str] = ..., sub_path: _Optional[str] = ..., read_only: _Optional[bool] = ...) -> None: ...

class StatusContainer(_message.Message):
    __slots__ = ("phase", "message", "start_time", "exit_code", "ready")
    PHASE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    phase: str
    message: str
    start_time: str
    exit_code: int
    ready: bool
    def __init__(self, phase: _Optional[str] = ..., message: _Optional[str] = ..., start_time: _Optional[str] = ..., exit_code: _Optional[int] = ..., ready: _Optional[bool] = ...) -> None: ...

class PodLogs(_message.Message):
    __slots__ = ("logs", "action_logs")
    LOGS_FIELD_NUMBER: _ClassVar[int]
    ACTION_LOGS_FIELD_NUMBER: _ClassVar[int]
    logs: str
    action_logs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, logs: _Optional[str] = ..., action_logs: _Optional[_Iterable[str]] = ...) -> None: ...

class PodCredentials(_message.Message):
    __slots__ = ("user_username", "user_password")
    USER_USERNAME_FIELD_NUMBER: _ClassVar[int]
    USER_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    user_username: str
    user_password: str
    def __init__(self, user_username: _Optional[str] = ..., user_password: _Optional[str] = ...) -> None: ...

class PodPermissions(_message.Message):
    __slots__ = ("permissions",)
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    permissions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, permissions: _Optional[_Iterable[str]] = ...) -> None: ...
