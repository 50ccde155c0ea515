"""What the volume and snapshot use-case tests share: the callers and their levels, the
fakes and the helpers that make shared objects (the fixtures are in conftest.py). Imported
by test_volumes.py, test_snapshots.py and conftest.py."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime

from services.api.domain.principal import Principal
from services.api.domain.volume_inputs import (
    SizeLimits,
    SnapshotRequest,
    VolumeRequest,
)
from services.api.domain.volumes import Volumes
from services.api.errors import (
    ApiError,
)
from services.common.runtime.types import ExecResult, PodKey
from services.common.storage.types import VolumeKey

NOW = datetime(2026, 11, 28, tzinfo=UTC)
ALICE = Principal("dev", "alice")  # creates everything
BOB = Principal("dev", "bob")  # READ
CAROL = Principal("dev", "carol")  # USER
DAVE = Principal("dev", "dave")  # nothing
ADMIN = Principal("dev", "root", is_admin=True)
VOL = VolumeKey("dev", "data")
LIMITS = SizeLimits(default_mib=10, max_mib=100)


class NoBus:
    async def request_reconcile(self, key: PodKey, reason: str) -> None:
        return None


class NoCommands:
    async def run(self, key: PodKey, argv: object, timeout: float, limit: int) -> ExecResult:
        raise AssertionError("no commands here")


async def shared_volume(volumes: Volumes) -> None:
    """`data` of alice with hello.txt, READ for bob, USER for carol."""
    await volumes.create_volume(ALICE, VolumeRequest("data", "my data"))
    await volumes.upload(ALICE, "data", "hello.txt", b"hello")
    await volumes.set_volume_permission(ALICE, "data", "bob", "READ")
    await volumes.set_volume_permission(ALICE, "data", "carol", "USER")


async def shared_snapshot(volumes: Volumes) -> None:
    """`snap1` of `data` (see shared_volume), READ for bob, USER for carol."""
    await volumes.create_snapshot(ALICE, SnapshotRequest("snap1", "data", "/"))
    await volumes.set_snapshot_permission(ALICE, "snap1", "bob", "READ")
    await volumes.set_snapshot_permission(ALICE, "snap1", "carol", "USER")


async def outcome(call: Awaitable[object]) -> str:
    """ "ok", or the name of the API error raised."""
    try:
        await call
    except ApiError as error:
        return type(error).__name__
    return "ok"


OK, NF, PD = "ok", "NotFoundError", "PermissionDeniedError"
