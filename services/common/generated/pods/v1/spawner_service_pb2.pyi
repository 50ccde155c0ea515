from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
