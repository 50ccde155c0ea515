"""The VolumeStore contract on volumes, run against every implementation of
tests/contract/storage_drivers.py ([fake], [docker] and [remote]): create a volume (idempotent,
validated keys, refused requests naming the rule), delete it, and what a pod mounts cannot be
deleted; mount_for checks what is mounted and where."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from services.common.storage.types import (
    InvalidStorageRequest,
    MountSpec,
    SnapshotKey,
    StorageConflict,
    StorageKind,
    StorageNotFound,
    VolumeKey,
    VolumeStore,
    snapshot_name,
    volume_name,
)
from tests.contract.storage_drivers import DRIVER_PARAMS, SNAP, VOL, Driver, open_driver


@pytest.fixture(params=DRIVER_PARAMS)
async def driver(request: pytest.FixtureRequest) -> AsyncIterator[Driver]:
    async with open_driver(request.param) as opened:
        yield opened


# --- volumes --------------------------------------------------------------------------------


async def test_create_is_idempotent_and_conflicts_on_another_limit(driver: Driver) -> None:
    store = driver.store
    info = await store.create_volume(VOL, 1000)
    assert info.name == f"pods-{driver.deployment_id}-vol-dev-vol1"
    assert (info.key, info.size_limit_bytes) == (VOL, 1000)
    assert info.created_at is not None
    assert await store.create_volume(VOL, 1000) == info
    assert await store.get_volume(VOL) == info
    with pytest.raises(StorageConflict, match="size limit of 1000 bytes, not 2000"):
        await store.create_volume(VOL, 2000)
    assert [v.key for v in await store.list_volumes()] == [VOL]
    assert [v.key for v in await store.list_volumes("dev")] == [VOL]
    assert await store.list_volumes("other") == []
    assert await store.get_volume(VolumeKey("dev", "nope")) is None


@pytest.mark.parametrize(
    ("key", "limit", "message"),
    [
        (VolumeKey("dev", "v"), 10, "volume id"),
        (VolumeKey("dev", "Bad-Id"), 10, "volume id"),
        (VolumeKey("Dev", "vol1"), 10, "tenant id"),
    ],
)
async def test_create_validates_the_key(
    driver: Driver, key: VolumeKey, limit: int, message: str
) -> None:
    with pytest.raises(InvalidStorageRequest, match=message):
        await driver.store.create_volume(key, limit)
    assert await driver.store.list_volumes() == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.create_volume(VolumeKey("dev", "vol2"), 0), "size limit must be positive"),
        (lambda s: s.create_volume(VolumeKey("dev", "vol2"), True), "size limit must be an int"),
        (lambda s: s.get_volume(VolumeKey("dev", "X")), "volume id 'X' must be 3 to 64"),
        (lambda s: s.get_snapshot(SnapshotKey("dev", "X")), "snapshot id 'X' must be 3 to 64"),
        (lambda s: s.list_volumes("Bad_T"), "tenant id 'Bad_T' must be lowercase"),
        (lambda s: s.list_snapshots("Bad_T"), "tenant id 'Bad_T' must be lowercase"),
        (
            lambda s: s.create_snapshot(VOL, SnapshotKey("other", "snap1")),
            "of tenant 'other' cannot be taken from a volume of tenant 'dev'",
        ),
        (lambda s: s.mount_for(StorageKind.VOLUME, VOL, "data"), "must be absolute"),
        (lambda s: s.mount_for(StorageKind.VOLUME, VOL, "/"), "may not be '/'"),
    ],
    ids=[
        "limit-0",
        "limit-bool",
        "volume-id",
        "snapshot-id",
        "list-volumes-tenant",
        "list-snapshots-tenant",
        "cross-tenant-snapshot",
        "relative-mount",
        "root-mount",
    ],
)
async def test_invalid_requests_are_refused_with_the_rule(
    driver: Driver, call: Callable[[VolumeStore], Awaitable[object]], message: str
) -> None:
    await driver.store.create_volume(VOL, 1000)
    with pytest.raises(InvalidStorageRequest, match=message):
        await call(driver.store)
    assert [v.key for v in await driver.store.list_volumes()] == [VOL]


async def test_delete_twice(driver: Driver) -> None:
    await driver.store.create_volume(VOL, 1000)
    assert await driver.store.delete_volume(VOL) is True
    assert await driver.store.delete_volume(VOL) is False
    assert await driver.store.get_volume(VOL) is None


# --- mounts ---------------------------------------------------------------------------------


async def test_what_a_pod_mounts_cannot_be_deleted(driver: Driver) -> None:
    store = driver.store
    volume = await store.create_volume(VOL, 1000)
    await store.upload(VOL, "f", b"x")
    snapshot = await store.create_snapshot(VOL, SNAP)
    driver.hold_mount(volume.name)
    driver.hold_mount(snapshot.name)
    with pytest.raises(StorageConflict, match="'vol1' is still mounted by container pods-"):
        await store.delete_volume(VOL)
    with pytest.raises(StorageConflict, match="'snap1' is still mounted by container pods-"):
        await store.delete_snapshot(SNAP)
    driver.release_mounts()
    assert await store.delete_volume(VOL) is True
    assert await store.delete_snapshot(SNAP) is True


async def test_mount_for_checks_what_is_mounted_and_where(driver: Driver) -> None:
    store = driver.store
    await store.create_volume(VOL, 1000)
    spec = await store.mount_for(StorageKind.VOLUME, VOL, "/data/")
    assert spec == MountSpec(
        StorageKind.VOLUME, volume_name(driver.deployment_id, VOL), "/data", False
    )
    await store.create_snapshot(VOL, SNAP)
    snap = await store.mount_for(StorageKind.SNAPSHOT, SNAP, "/snap", read_only=False)
    assert snap == MountSpec(
        StorageKind.SNAPSHOT, snapshot_name(driver.deployment_id, SNAP), "/snap", True
    )
    with pytest.raises(InvalidStorageRequest, match="needs a SnapshotKey"):
        await store.mount_for(StorageKind.SNAPSHOT, VOL, "/x")
    with pytest.raises(InvalidStorageRequest, match="reserved"):
        await store.mount_for(StorageKind.VOLUME, VOL, "/proc/x")
    with pytest.raises(StorageNotFound):
        await store.mount_for(StorageKind.VOLUME, VolumeKey("dev", "nope"), "/x")
    with pytest.raises(StorageNotFound):
        await store.mount_for(StorageKind.SNAPSHOT, SnapshotKey("dev", "nope"), "/x")
