"""FakeVolumeStore's own test hooks and details (services/common/storage/fake.py). That it
behaves as DockerVolumeStore does is tests/contract/test_storage_contract.py's job."""

from __future__ import annotations

import pytest

from services.common.outcomes import TemporaryError
from services.common.storage.fake import FakeVolumeStore
from services.common.storage.types import (
    InvalidStorageRequest,
    MountSpec,
    QuotaExceeded,
    SnapshotKey,
    StorageConflict,
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


async def test_create_is_idempotent_and_conflicts_on_another_limit(store: FakeVolumeStore) -> None:
    again = await store.create_volume(VOL, 1000)
    assert again.name == "pods-local-vol-dev-vol1"
    assert again.size_limit_bytes == 1000
    with pytest.raises(StorageConflict, match="size limit of 1000 bytes, not 2000"):
        await store.create_volume(VOL, 2000)
    assert [info.key for info in await store.list_volumes()] == [VOL]
    assert await store.list_volumes("other") == []
    assert await store.get_volume(VolumeKey("dev", "nope")) is None


@pytest.mark.parametrize(
    ("key", "limit", "message"),
    [
        (VolumeKey("dev", "v"), 10, "volume id"),
        (VolumeKey("Dev", "vol1"), 10, "tenant id"),
        (VolumeKey("dev", "vol2"), 0, "size limit"),
    ],
)
async def test_create_validates(key: VolumeKey, limit: int, message: str) -> None:
    with pytest.raises(InvalidStorageRequest, match=message):
        await FakeVolumeStore().create_volume(key, limit)


async def test_roundtrip(store: FakeVolumeStore) -> None:
    entry = await store.upload(VOL, "a/b/c.txt", b"hello")
    assert (entry.path, entry.size, entry.is_dir) == ("a/b/c.txt", 5, False)
    await store.upload(VOL, "top.txt", b"x")
    assert await store.download(VOL, "a/b/c.txt") == b"hello"
    assert await store.download(VOL, "./a/b/c.txt") == b"hello"
    assert [(e.path, e.is_dir) for e in await store.list_files(VOL)] == [
        ("a", True),
        ("top.txt", False),
    ]
    assert [e.path for e in await store.list_files(VOL, "", recursive=True)] == [
        "a",
        "a/b",
        "a/b/c.txt",
        "top.txt",
    ]
    assert [e.path for e in await store.list_files(VOL, "a/")] == ["a/b"]
    assert [(e.path, e.size) for e in await store.list_files(VOL, "a/b/c.txt")] == [
        ("a/b/c.txt", 5)
    ]
    assert await store.usage_bytes(VOL) == 6


async def test_file_errors(store: FakeVolumeStore) -> None:
    await store.upload(VOL, "a/b.txt", b"1")
    with pytest.raises(InvalidStorageRequest, match="'a' is a directory"):
        await store.download(VOL, "a")
    with pytest.raises(InvalidStorageRequest, match="is a directory"):
        await store.upload(VOL, "a", b"")
    with pytest.raises(InvalidStorageRequest, match="volume root"):
        await store.upload(VOL, "", b"")
    with pytest.raises(InvalidStorageRequest, match=r"'a/b\.txt' is not a directory"):
        await store.upload(VOL, "a/b.txt/c", b"")
    with pytest.raises(StorageNotFound, match="'nope' does not exist"):
        await store.download(VOL, "nope")
    with pytest.raises(StorageNotFound, match="'nope' does not exist"):
        await store.list_files(VOL, "nope")
    with pytest.raises(StorageNotFound, match="volume 'nope'"):
        await store.download(VolumeKey("dev", "nope"), "a")


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../x", "a\x00", "a//b"])
async def test_traversal_refused(store: FakeVolumeStore, bad: str) -> None:
    with pytest.raises(InvalidStorageRequest):
        await store.download(VOL, bad)
    with pytest.raises(InvalidStorageRequest):
        await store.upload(VOL, bad, b"x")
    with pytest.raises(InvalidStorageRequest):
        await store.list_files(VOL, bad)


async def test_size_limit(store: FakeVolumeStore) -> None:
    await store.upload(VOL, "a", b"x" * 600)
    with pytest.raises(QuotaExceeded, match="to 1100 bytes, over its size limit of 1000"):
        await store.upload(VOL, "b", b"x" * 500)
    await store.upload(VOL, "a", b"x" * 1000)  # replacing: the old size no longer counts
    assert await store.usage_bytes(VOL) == 1000
    with pytest.raises(QuotaExceeded):
        await store.upload(VOL, "c", b"x")
    store.plant_file(VOL, "pod-wrote", b"x" * 5000)  # pods are not held to it
    assert await store.usage_bytes(VOL) == 6000


async def test_snapshot_is_a_copy_at_that_time(store: FakeVolumeStore) -> None:
    await store.upload(VOL, "d/f.txt", b"before")
    info = await store.create_snapshot(VOL, SNAP)
    assert (info.source, info.source_path, info.size_bytes) == (VOL, "", 6)
    await store.upload(VOL, "d/f.txt", b"after!!")
    await store.upload(VOL, "new.txt", b"n")
    assert await store.download_snapshot(SNAP, "d/f.txt") == b"before"
    assert [e.path for e in await store.list_snapshot_files(SNAP, recursive=True)] == [
        "d",
        "d/f.txt",
    ]
    assert await store.usage_bytes(SNAP) == 6
    again = await store.create_snapshot(VOL, SNAP)  # idempotent: not copied again
    assert again.size_bytes == 6
    assert await store.download_snapshot(SNAP, "d/f.txt") == b"before"
    with pytest.raises(StorageConflict, match="already exists, taken from volume 'vol1'"):
        await store.create_snapshot(VOL, SNAP, "d")


async def test_snapshot_of_a_directory_and_of_a_file(store: FakeVolumeStore) -> None:
    await store.upload(VOL, "d/e/f.txt", b"abc")
    await store.create_snapshot(VOL, SNAP, "d")
    assert [e.path for e in await store.list_snapshot_files(SNAP, recursive=True)] == [
        "e",
        "e/f.txt",
    ]
    single = SnapshotKey("dev", "snap2")
    await store.create_snapshot(VOL, single, "d/e/f.txt")
    assert await store.download_snapshot(single, "f.txt") == b"abc"


async def test_snapshot_errors(store: FakeVolumeStore) -> None:
    with pytest.raises(StorageNotFound, match="'nope' does not exist in volume 'vol1'"):
        await store.create_snapshot(VOL, SNAP, "nope")
    with pytest.raises(StorageNotFound, match="volume 'nope'"):
        await store.create_snapshot(VolumeKey("dev", "nope"), SNAP)
    with pytest.raises(InvalidStorageRequest, match="tenant 'other'"):
        await store.create_snapshot(VOL, SnapshotKey("other", "snap1"))
    await store.upload(VOL, "f", b"x" * 100)
    with pytest.raises(QuotaExceeded, match="snapshot size limit of 10 bytes"):
        await store.create_snapshot(VOL, SNAP, size_limit_bytes=10)
    assert await store.get_snapshot(SNAP) is None
    assert await store.list_snapshots() == []


async def test_delete_refuses_while_mounted(store: FakeVolumeStore) -> None:
    name = (await store.create_volume(VOL, 1000)).name
    store.hold_mount(name, "pods-local-dev-web1")
    with pytest.raises(StorageConflict, match="still mounted by container pods-local-dev-web1"):
        await store.delete_volume(VOL)
    store.release_mount(name, "pods-local-dev-web1")
    assert await store.delete_volume(VOL) is True
    assert await store.delete_volume(VOL) is False


async def test_snapshot_survives_its_source(store: FakeVolumeStore) -> None:
    await store.upload(VOL, "f", b"x")
    info = await store.create_snapshot(VOL, SNAP)
    store.hold_mount(info.name, "c1")
    with pytest.raises(StorageConflict):
        await store.delete_snapshot(SNAP)
    assert await store.delete_volume(VOL)
    assert await store.download_snapshot(SNAP, "f") == b"x"
    assert (await store.create_snapshot(VOL, SNAP)).size_bytes == 1  # a replay still answers
    store.release_mount(info.name, "c1")
    assert await store.delete_snapshot(SNAP)
    assert not await store.delete_snapshot(SNAP)


async def test_symlink_escapes_refused(store: FakeVolumeStore) -> None:
    store.plant_file(VOL, "inside/f.txt", b"ok")
    store.plant_symlink(VOL, "pw", "/etc/passwd")
    store.plant_symlink(VOL, "etcdir", "/etc")
    store.plant_symlink(VOL, "up", "../../..")
    store.plant_symlink(VOL, "gone", "/v/missing")
    store.plant_symlink(VOL, "loop", "loop")
    store.plant_symlink(VOL, "good", "inside")
    store.plant_symlink(VOL, "absgood", "/v/inside/f.txt")
    for path in ("pw", "etcdir/passwd", "up/etc/passwd"):
        with pytest.raises(InvalidStorageRequest, match="leading outside the volume"):
            await store.download(VOL, path)
    with pytest.raises(InvalidStorageRequest, match="leading outside"):
        await store.list_files(VOL, "etcdir")
    with pytest.raises(InvalidStorageRequest, match="leading outside"):
        await store.upload(VOL, "etcdir/x", b"x")
    with pytest.raises(InvalidStorageRequest, match="leading outside"):
        await store.upload(VOL, "pw", b"x")
    with pytest.raises(InvalidStorageRequest, match="leading outside"):
        await store.create_snapshot(VOL, SNAP, "etcdir")
    with pytest.raises(InvalidStorageRequest, match="link to nothing"):
        await store.download(VOL, "gone")
    with pytest.raises(InvalidStorageRequest, match="cannot be resolved"):
        await store.download(VOL, "loop")
    assert await store.download(VOL, "good/f.txt") == b"ok"
    assert await store.download(VOL, "absgood") == b"ok"
    await store.upload(VOL, "good/new.txt", b"n")  # through a link that stays inside
    assert await store.download(VOL, "inside/new.txt") == b"n"
    listed = {e.path: e for e in await store.list_files(VOL)}
    assert listed["pw"].is_symlink and not listed["pw"].is_dir and listed["pw"].size == 0


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
