from google.api import field_behavior_pb2 as _field_behavior_pb2
from services.common.generated.pods.v1 import pod_pb2 as _pod_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ObservePodRequest(_message.Message):
    __slots__ = ("tenant_id", "pod_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    pod_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., pod_id: _Optional[str] = ...) -> None: ...

class ObservePodResponse(_message.Message):
    __slots__ = ("status", "status_container")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_CONTAINER_FIELD_NUMBER: _ClassVar[int]
    status: str
    status_container: _pod_pb2.StatusContainer
    def __init__(self, status: _Optional[str] = ..., status_container: _Optional[_Union[_pod_pb2.StatusContainer, _Mapping]] = ...) -> None: ...

class ResyncRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ResyncResponse(_message.Message):
    __slots__ = ("pods_observed",)
    PODS_OBSERVED_FIELD_NUMBER: _ClassVar[int]
    pods_observed: int
    def __init__(self, pods_observed: _Optional[int] = ...) -> None: ...
