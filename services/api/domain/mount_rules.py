"""Checks a pod's requested `volume_mounts` and turns them into VolumeMountSpecs, or raises
InvalidArgumentError naming the field and the rule. Pure functions; called by
domain/validation.py (which re-exports MountRequest for its callers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.api.errors import InvalidArgumentError
from services.common.pods_model import MountType, VolumeMountSpec
from services.common.storage import paths
from services.common.storage.types import validate_storage_id

MAX_MOUNTS = 10
# Mount targets refused besides '/' and anything under /proc, /sys and /dev (storage.paths):
# the directories a container's system lives in, and /etc (Docker manages files in it).
SYSTEM_DIRS = frozenset(
    {"/bin", "/boot", "/lib", "/lib32", "/lib64", "/libx32", "/run", "/sbin", "/usr", "/var"}
)
RESERVED_UNDER = ("/etc",)


@dataclass(frozen=True)
class MountRequest:
    """One requested entry of `volume_mounts`, as plain values."""

    type: str = ""
    mount_path: str = ""
    sub_path: str = ""
    read_only: bool = False


def validate_volume_mounts(mounts: Mapping[str, MountRequest]) -> dict[str, VolumeMountSpec]:
    """The mounts in canonical form: ids valid, type tapisvolume (default) or tapissnapshot,
    mount paths absolute, distinct and outside the system's directories, sub paths relative
    and confined; snapshots read-only."""
    if len(mounts) > MAX_MOUNTS:
        raise InvalidArgumentError("volume_mounts", f"must have at most {MAX_MOUNTS} entries")
    result: dict[str, VolumeMountSpec] = {}
    targets: dict[str, str] = {}
    for object_id, mount in mounts.items():
        name = f"volume_mounts.{object_id[:64]}"
        try:
            validate_storage_id("the key (a volume_id or snapshot_id)", object_id)
        except ValueError as exc:
            raise InvalidArgumentError("volume_mounts", str(exc)) from None
        kind = _mount_type(f"{name}.type", mount.type)
        target = _mount_path(f"{name}.mount_path", mount.mount_path)
        if target in targets:
            raise InvalidArgumentError(
                f"{name}.mount_path", f"{target} is also where {targets[target]!r} is mounted"
            )
        targets[target] = object_id
        try:
            sub_path = paths.normalize(mount.sub_path, "sub_path")
        except paths.PathError as exc:
            raise InvalidArgumentError(f"{name}.sub_path", str(exc)) from None
        result[object_id] = VolumeMountSpec(
            type=kind,
            mount_path=target,
            sub_path=sub_path,
            read_only=mount.read_only or kind is MountType.SNAPSHOT,
        )
    return result


def _mount_type(name: str, value: str) -> MountType:
    try:
        return MountType(value or MountType.VOLUME.value)
    except ValueError:
        raise InvalidArgumentError(
            name, f"must be tapisvolume or tapissnapshot (got {value[:32]!r})"
        ) from None


def _mount_path(name: str, value: str) -> str:
    if not value:
        raise InvalidArgumentError(name, "is required (an absolute path in the container)")
    try:
        target = paths.normalize_mount_path(value)
    except paths.PathError as exc:
        raise InvalidArgumentError(name, str(exc)) from None
    if target in SYSTEM_DIRS or any(
        target == root or target.startswith(root + "/") for root in RESERVED_UNDER
    ):
        raise InvalidArgumentError(
            name, f"{target} is a system directory of the container; mount elsewhere"
        )
    return target
