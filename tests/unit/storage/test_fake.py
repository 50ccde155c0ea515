"""FakeVolumeStore's own test hooks and details (services/common/storage/fake.py). That it
behaves as DockerVolumeStore does is tests/contract/test_storage_contract.py's job."""

from __future__ import annotations

import pytest

from services.common.outcomes import TemporaryError
from services.common.storage.fake import FakeVolumeStore
from services.common.storage.types import (
    InvalidStorageRequest,
    MountSpec,
    SnapshotKey,
    StorageKind,
    StorageNotFound,
    VolumeKey,
)

VOL = VolumeKey("dev", "vol1")
SNAP = SnapshotKey("dev", "snap1")


@pytest.fixture
async def store() -> FakeVolumeStore:
    fake = FakeVolumeStore("local")
    await fake.create_volume(VOL, 1000)
    return fake


async def test_mount_for(store: FakeVolumeStore) -> None:
    spec = await store.mount_for(StorageKind.VOLUME, VOL, "/data/")
    assert spec == MountSpec(StorageKind.VOLUME, "pods-local-vol-dev-vol1", "/data", False)
    await store.create_snapshot(VOL, SNAP)
    snap = await store.mount_for(StorageKind.SNAPSHOT, SNAP, "/snap", read_only=False)
    assert snap.read_only is True
    with pytest.raises(InvalidStorageRequest, match="needs a SnapshotKey"):
        await store.mount_for(StorageKind.SNAPSHOT, VOL, "/x")
    with pytest.raises(InvalidStorageRequest, match="reserved"):
        await store.mount_for(StorageKind.VOLUME, VOL, "/proc/x")
    with pytest.raises(StorageNotFound):
        await store.mount_for(StorageKind.VOLUME, VolumeKey("dev", "nope"), "/x")
    with pytest.raises(InvalidStorageRequest, match=r"API >= 1\.45"):
        await store.mount_for(StorageKind.VOLUME, VOL, "/data", sub_path="a")


async def test_mount_sub_path_when_supported() -> None:
    store = FakeVolumeStore(subpath_supported=True)
    await store.create_volume(VOL, 100)
    store.plant_file(VOL, "real/dir/f", b"")
    store.plant_symlink(VOL, "link", "real")
    spec = await store.mount_for(StorageKind.VOLUME, VOL, "/data", sub_path="link/dir")
    assert spec.sub_path == "real/dir"
    with pytest.raises(InvalidStorageRequest, match="not a directory"):
        await store.mount_for(StorageKind.VOLUME, VOL, "/data", sub_path="real/dir/f")
    with pytest.raises(StorageNotFound):
        await store.mount_for(StorageKind.VOLUME, VOL, "/data", sub_path="nope")
    with pytest.raises(InvalidStorageRequest, match=r"'\.\.'"):
        await store.mount_for(StorageKind.VOLUME, VOL, "/data", sub_path="../x")


async def test_fail_next_and_calls(store: FakeVolumeStore) -> None:
    store.fail_next(TemporaryError("engine down"))
    with pytest.raises(TemporaryError):
        await store.usage_bytes(VOL)
    assert await store.usage_bytes(VOL) == 0
    assert store.calls == ["create_volume", "usage_bytes", "usage_bytes"]
