"""The VolumeStore contract on snapshots, run against every implementation of
tests/contract/storage_drivers.py ([fake], [docker] and [remote]): a snapshot is a copy taken
at once, of a whole volume, a directory or a file; errors leave nothing behind; a snapshot
outlives its source."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.common.storage.types import (
    QuotaExceeded,
    SnapshotKey,
    StorageConflict,
    StorageNotFound,
    VolumeKey,
    snapshot_name,
)
from tests.contract.storage_drivers import DRIVER_PARAMS, SNAP, VOL, Driver, open_driver


@pytest.fixture(params=DRIVER_PARAMS)
async def driver(request: pytest.FixtureRequest) -> AsyncIterator[Driver]:
    async with open_driver(request.param) as opened:
        yield opened


# --- snapshots ------------------------------------------------------------------------------


async def test_a_snapshot_is_a_copy_taken_at_once(driver: Driver) -> None:
    store = driver.store
    await store.create_volume(VOL, 10_000)
    await store.upload(VOL, "d/f.txt", b"before")
    info = await store.create_snapshot(VOL, SNAP)
    assert info.name == snapshot_name(driver.deployment_id, SNAP)
    assert (info.key, info.source, info.source_path, info.size_bytes) == (SNAP, VOL, "", 6)
    await store.upload(VOL, "d/f.txt", b"after!!")
    await store.upload(VOL, "new.txt", b"n")
    assert await store.download_snapshot(SNAP, "d/f.txt") == b"before"
    listed = await store.list_snapshot_files(SNAP, recursive=True)
    assert [e.path for e in listed] == ["d", "d/f.txt"]
    assert await store.usage_bytes(SNAP) == 6
    again = await store.create_snapshot(VOL, SNAP)  # a replay: not copied again
    assert again.size_bytes == 6
    assert await store.download_snapshot(SNAP, "d/f.txt") == b"before"
    with pytest.raises(StorageConflict, match="already exists, taken from volume 'vol1'"):
        await store.create_snapshot(VOL, SNAP, "d")
    got = await store.get_snapshot(SNAP)
    assert got is not None and (got.source, got.source_path) == (VOL, "")
    assert [s.key for s in await store.list_snapshots("dev")] == [SNAP]
    assert await store.list_snapshots("other") == []


async def test_snapshots_of_a_directory_and_of_a_file(driver: Driver) -> None:
    store = driver.store
    await store.create_volume(VOL, 10_000)
    await store.upload(VOL, "d/e/f.txt", b"abc")
    await store.upload(VOL, "other.txt", b"zzz")
    info = await store.create_snapshot(VOL, SNAP, "d/")
    assert (info.source_path, info.size_bytes) == ("d", 3)
    assert [e.path for e in await store.list_snapshot_files(SNAP, recursive=True)] == [
        "e",
        "e/f.txt",
    ]
    single = SnapshotKey("dev", "snap2")
    await store.create_snapshot(VOL, single, "d/e/f.txt")
    assert [e.path for e in await store.list_snapshot_files(single)] == ["f.txt"]
    assert await store.download_snapshot(single, "f.txt") == b"abc"


async def test_snapshot_errors_leave_nothing_behind(driver: Driver) -> None:
    store = driver.store
    await store.create_volume(VOL, 10_000)
    with pytest.raises(StorageNotFound, match="'nope' does not exist in volume 'vol1'"):
        await store.create_snapshot(VOL, SNAP, "nope")
    with pytest.raises(StorageNotFound, match="volume 'nope'"):
        await store.create_snapshot(VolumeKey("dev", "nope"), SNAP)
    await store.upload(VOL, "f", b"x" * 100)
    with pytest.raises(QuotaExceeded, match="over the snapshot size limit of 10 bytes"):
        await store.create_snapshot(VOL, SNAP, size_limit_bytes=10)
    assert await store.get_snapshot(SNAP) is None
    assert await store.list_snapshots() == []


async def test_a_snapshot_outlives_its_source(driver: Driver) -> None:
    store = driver.store
    await store.create_volume(VOL, 1000)
    await store.upload(VOL, "f", b"x")
    await store.create_snapshot(VOL, SNAP)
    assert await store.delete_volume(VOL) is True
    assert await store.download_snapshot(SNAP, "f") == b"x"
    assert (await store.create_snapshot(VOL, SNAP)).size_bytes == 1  # a replay still answers
    assert await store.delete_snapshot(SNAP) is True
    assert await store.delete_snapshot(SNAP) is False
    assert await store.get_snapshot(SNAP) is None
