"""What a volume or snapshot request may contain: the requests and updates transport
converts the protobuf messages to, the size bounds, and the checks of their fields (ids,
descriptions, paths inside a volume, fields fixed after creation).

Used by domain/volumes.py (the use cases) and transport/convert.py. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.api.errors import InvalidArgumentError
from services.common.storage import paths
from services.common.storage.types import validate_storage_id

MAX_DESCRIPTION = 255


@dataclass(frozen=True)
class SizeLimits:
    """Bounds of size_limit, in MiB (settings PODS_VOLUME_SIZE_DEFAULT, PODS_VOLUME_SIZE_MAX)."""

    default_mib: int = 1024
    max_mib: int = 10240


@dataclass(frozen=True)
class VolumeRequest:
    """A create request (transport converts the protobuf to this); None: not given."""

    volume_id: str
    description: str = ""
    size_limit_mib: int | None = None


@dataclass(frozen=True)
class VolumeUpdate:
    """The fields an update gives (None: not given)."""

    volume_id: str
    description: str | None = None
    size_limit_mib: int | None = None


@dataclass(frozen=True)
class SnapshotRequest:
    """A create request; Tapis fields this service does not support must stay empty."""

    snapshot_id: str
    source_volume_id: str
    source_volume_path: str = ""
    description: str = ""
    size_limit_mib: int | None = None
    destination_path: str = ""
    cron: str = ""
    retention_policy: str = ""


@dataclass(frozen=True)
class SnapshotUpdate:
    """The fields an update gives (None: not given)."""

    snapshot_id: str
    description: str | None = None
    size_limit_mib: int | None = None
    cron: str | None = None
    retention_policy: str | None = None


def storage_id(field: str, value: str) -> str:
    if not value:
        raise InvalidArgumentError(field, "is required")
    try:
        return validate_storage_id(field, value)
    except ValueError:
        raise InvalidArgumentError(
            field,
            "must be 3 to 64 lowercase letters and digits, starting with a letter "
            f"(got {value[:80]!r})",
        ) from None


def checked_description(value: str) -> str:
    if len(value) > MAX_DESCRIPTION:
        raise InvalidArgumentError("description", f"must be at most {MAX_DESCRIPTION} characters")
    return value


def relative_path(field: str, value: str) -> str:
    try:
        return paths.normalize(value, field)
    except paths.PathError as exc:
        raise InvalidArgumentError(field, str(exc)) from None


def file_path(value: str) -> str:
    relative = relative_path("path", value)
    if not relative:
        raise InvalidArgumentError("path", "must name a file, not the root")
    return relative


def unchanged(field: str, given: int | None, current: int, unit: str) -> None:
    if given is not None and given != 0 and given != current:
        raise InvalidArgumentError(
            field, f"cannot be changed after creation (it is {current} {unit})"
        )
