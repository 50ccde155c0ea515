"""Volumes and snapshots as the API records them: frozen records passed between layers.

Written and read by services/api (domain/volumes.py) through the repositories of
services.common.db; turned into protobuf by services/api/transport/convert.py. The files
themselves live behind the storage seam (services.common.storage), keyed by the same
VolumeKey and SnapshotKey.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.common.storage.types import SnapshotKey, VolumeKey

MIB = 1024 * 1024


@dataclass(frozen=True)
class VolumeRecord:
    """A volume row. `size_bytes` is the usage last measured (None: never measured)."""

    key: VolumeKey
    owner: str
    description: str
    size_limit_mib: int
    creation_ts: datetime
    update_ts: datetime
    size_bytes: int | None = None

    @property
    def size_limit_bytes(self) -> int:
        return self.size_limit_mib * MIB


@dataclass(frozen=True)
class SnapshotRecord:
    """A snapshot row: where it was copied from and how big the copy is."""

    key: SnapshotKey
    owner: str
    description: str
    size_limit_mib: int
    source_volume_id: str
    source_volume_path: str  # normalized, "" for the whole volume
    size_bytes: int
    creation_ts: datetime
    update_ts: datetime

    @property
    def size_limit_bytes(self) -> int:
        return self.size_limit_mib * MIB


def mib_rounded_up(size_bytes: int | None) -> int:
    """Bytes as whole MiB, rounded up (so a non-empty volume never shows 0); 0 for None."""
    if not size_bytes:
        return 0
    return -(-size_bytes // MIB)
