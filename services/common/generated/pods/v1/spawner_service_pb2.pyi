from google.api import field_behavior_pb2 as _field_behavior_pb2
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
    __slots__ = ("name", "tenant_id", "pod_id", "phase")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    name: str
    tenant_id: str
    pod_id: str
    phase: str
    def __init__(self, name: _Optional[str] = ..., tenant_id: _Optional[str] = ..., pod_id: _Optional[str] = ..., phase: _Optional[str] = ...) -> None: ...

class ListManagedContainersResponse(_message.Message):
    __slots__ = ("containers",)
    CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    containers: _containers.RepeatedCompositeFieldContainer[ManagedContainer]
    def __init__(self, containers: _Optional[_Iterable[_Union[ManagedContainer, _Mapping]]] = ...) -> None: ...
