import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from services.common.generated.pods.v1 import pod_pb2 as _pod_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WatchPodRequest(_message.Message):
    __slots__ = ("pod_id", "resume_after")
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_AFTER_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    resume_after: str
    def __init__(self, pod_id: _Optional[str] = ..., resume_after: _Optional[str] = ...) -> None: ...

class WatchPodResponse(_message.Message):
    __slots__ = ("event_id", "deleted", "pod_id", "status", "status_container", "status_requested", "action_log", "time")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_CONTAINER_FIELD_NUMBER: _ClassVar[int]
    STATUS_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    ACTION_LOG_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    deleted: bool
    pod_id: str
    status: str
    status_container: _pod_pb2.StatusContainer
    status_requested: str
    action_log: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., deleted: _Optional[bool] = ..., pod_id: _Optional[str] = ..., status: _Optional[str] = ..., status_container: _Optional[_Union[_pod_pb2.StatusContainer, _Mapping]] = ..., status_requested: _Optional[str] = ..., action_log: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchPodsRequest(_message.Message):
    __slots__ = ("resume_after",)
    RESUME_AFTER_FIELD_NUMBER: _ClassVar[int]
    resume_after: str
    def __init__(self, resume_after: _Optional[str] = ...) -> None: ...

class FollowPodLogsRequest(_message.Message):
    __slots__ = ("pod_id", "resume_after")
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_AFTER_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    resume_after: str
    def __init__(self, pod_id: _Optional[str] = ..., resume_after: _Optional[str] = ...) -> None: ...

class FollowPodLogsResponse(_message.Message):
    __slots__ = ("event_id", "new_run", "text", "run")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_RUN_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    new_run: bool
    text: str
    run: int
    def __init__(self, event_id: _Optional[str] = ..., new_run: _Optional[bool] = ..., text: _Optional[str] = ..., run: _Optional[int] = ...) -> None: ...

class StreamPodEventsRequest(_message.Message):
    __slots__ = ("pod_id",)
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    def __init__(self, pod_id: _Optional[str] = ...) -> None: ...

class StreamPodsEventsRequest(_message.Message):
    __slots__ = ("watch",)
    WATCH_FIELD_NUMBER: _ClassVar[int]
    watch: bool
    def __init__(self, watch: _Optional[bool] = ...) -> None: ...

class StreamPodLogsRequest(_message.Message):
    __slots__ = ("pod_id", "follow", "previous")
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    pod_id: str
    follow: bool
    previous: int
    def __init__(self, pod_id: _Optional[str] = ..., follow: _Optional[bool] = ..., previous: _Optional[int] = ...) -> None: ...
