from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Site(_message.Message):
    __slots__ = ("site_id", "base_url", "primary")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    base_url: str
    primary: bool
    def __init__(self, site_id: _Optional[str] = ..., base_url: _Optional[str] = ..., primary: _Optional[bool] = ...) -> None: ...

class Tenant(_message.Message):
    __slots__ = ("tenant_id", "site_id", "base_url", "token_service", "public_key")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    TOKEN_SERVICE_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    site_id: str
    base_url: str
    token_service: str
    public_key: str
    def __init__(self, tenant_id: _Optional[str] = ..., site_id: _Optional[str] = ..., base_url: _Optional[str] = ..., token_service: _Optional[str] = ..., public_key: _Optional[str] = ...) -> None: ...
