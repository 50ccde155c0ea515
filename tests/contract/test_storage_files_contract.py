"""The VolumeStore contract on the files in a volume, run against every implementation of
tests/contract/storage_drivers.py ([fake], [docker] and [remote]): upload, list, download
(whole, and streamed in bounded chunks), errors naming the path, size limits, and path
confinement (bad paths, and symbolic links a pod plants)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from services.common.storage.chunks import CHUNK_SIZE
from services.common.storage.types import (
    InvalidStorageRequest,
    QuotaExceeded,
    StorageNotFound,
    VolumeKey,
)
from tests.contract.storage_drivers import (
    DRIVER_PARAMS,
    SNAP,
    UPLOAD_MAX,
    VOL,
    Driver,
    open_driver,
)


@pytest.fixture(params=DRIVER_PARAMS)
async def driver(request: pytest.FixtureRequest) -> AsyncIterator[Driver]:
    async with open_driver(request.param) as opened:
        yield opened


# --- files ----------------------------------------------------------------------------------


async def test_upload_list_download_roundtrip(driver: Driver) -> None:
    store = driver.store
    await store.create_volume(VOL, 10_000)
    entry = await store.upload(VOL, "a/b/c.txt", b"hello")
    assert (entry.path, entry.size, entry.is_dir) == ("a/b/c.txt", 5, False)
    await store.upload(VOL, "top.bin", bytes(range(256)))
    assert await store.download(VOL, "a/b/c.txt") == b"hello"
    assert await store.download(VOL, "./a/b/c.txt") == b"hello"
    assert await store.download(VOL, "top.bin") == bytes(range(256))
    top = await store.list_files(VOL)
    assert [(e.path, e.is_dir, e.size) for e in top] == [("a", True, 0), ("top.bin", False, 256)]
    deep = await store.list_files(VOL, "", recursive=True)
    assert [e.path for e in deep] == ["a", "a/b", "a/b/c.txt", "top.bin"]
    assert [e.path for e in await store.list_files(VOL, "a/")] == ["a/b"]
    assert [(e.path, e.size) for e in await store.list_files(VOL, "a/b/c.txt")] == [
        ("a/b/c.txt", 5)
    ]
    assert await store.usage_bytes(VOL) == 5 + 256
    await store.upload(VOL, "a/b/c.txt", b"replaced")
    assert await store.download(VOL, "a/b/c.txt") == b"replaced"


async def test_an_upload_as_large_as_the_gateway_admits_is_stored(driver: Driver) -> None:
    """The gateway admits bodies of 4 MiB: the file, its path and ids must still fit in one
    message from the API to the spawner."""
    store = driver.store
    await store.create_volume(VOL, 2 * UPLOAD_MAX)
    content = secrets.token_bytes(UPLOAD_MAX)
    path = "d" * 200 + "/big.bin"
    entry = await store.upload(VOL, path, content)
    assert (entry.path, entry.size) == (path, UPLOAD_MAX)
    assert await store.download(VOL, path) == content


async def test_downloads_stream_in_bounded_chunks(driver: Driver) -> None:
    store = driver.store
    await store.create_volume(VOL, 10 * CHUNK_SIZE)
    content = secrets.token_bytes(4 * CHUNK_SIZE + 3)
    await store.upload(VOL, "big.bin", content)
    await store.upload(VOL, "empty", b"")
    chunks = [chunk async for chunk in await store.open_download(VOL, "big.bin")]
    assert b"".join(chunks) == content
    assert len(chunks) >= 5 and max(len(chunk) for chunk in chunks) <= CHUNK_SIZE
    assert [chunk async for chunk in await store.open_download(VOL, "empty")] == [b""]
    await store.create_snapshot(VOL, SNAP)
    from_snapshot = await store.open_snapshot_download(SNAP, "big.bin")
    assert await from_snapshot.read_all() == content


async def test_a_download_is_checked_before_its_first_chunk(driver: Driver) -> None:
    store = driver.store
    await store.create_volume(VOL, 10_000)
    await store.upload(VOL, "d/f", b"x")
    # Opening fails at once: nothing is streamed for a missing file, a directory or a bad path.
    with pytest.raises(StorageNotFound, match="'nope' does not exist"):
        await store.open_download(VOL, "nope")
    with pytest.raises(InvalidStorageRequest, match="'d' is a directory"):
        await store.open_download(VOL, "d")
    with pytest.raises(InvalidStorageRequest):
        await store.open_download(VOL, "../etc/passwd")
    with pytest.raises(StorageNotFound, match="snapshot 'snap1' of tenant 'dev' does not"):
        await store.open_snapshot_download(SNAP, "d/f")


async def test_a_download_stopped_early_leaves_the_volume_usable(driver: Driver) -> None:
    store = driver.store
    await store.create_volume(VOL, 10 * CHUNK_SIZE)
    content = secrets.token_bytes(3 * CHUNK_SIZE)
    await store.upload(VOL, "f", content)
    stream = await store.open_download(VOL, "f")
    assert await stream.__anext__() == content[:CHUNK_SIZE]
    await stream.aclose()
    await store.upload(VOL, "f", b"next")
    assert await store.download(VOL, "f") == b"next"
    assert await store.delete_volume(VOL) is True


async def test_file_errors_name_the_path(driver: Driver) -> None:
    store = driver.store
    await store.create_volume(VOL, 10_000)
    await store.upload(VOL, "d/f", b"x")
    with pytest.raises(InvalidStorageRequest, match="'d' is a directory"):
        await store.download(VOL, "d")
    with pytest.raises(InvalidStorageRequest, match="'d' is a directory"):
        await store.upload(VOL, "d", b"x")
    with pytest.raises(InvalidStorageRequest, match="'d/f' is not a directory"):
        await store.upload(VOL, "d/f/g", b"x")
    with pytest.raises(InvalidStorageRequest, match="volume root"):
        await store.upload(VOL, "", b"x")
    with pytest.raises(StorageNotFound, match="'nope' does not exist"):
        await store.download(VOL, "nope")
    with pytest.raises(StorageNotFound, match="'nope' does not exist"):
        await store.list_files(VOL, "nope")
    with pytest.raises(StorageNotFound, match="volume 'vol2' of tenant 'dev' does not exist"):
        await store.upload(VolumeKey("dev", "vol2"), "x", b"")
    with pytest.raises(StorageNotFound, match="volume 'vol2' of tenant 'dev' does not exist"):
        await store.usage_bytes(VolumeKey("dev", "vol2"))
    for call in (store.download_snapshot(SNAP, "f"), store.list_snapshot_files(SNAP)):
        with pytest.raises(StorageNotFound, match="snapshot 'snap1' of tenant 'dev' does not"):
            await call


async def test_uploads_are_held_to_the_size_limit(driver: Driver) -> None:
    store = driver.store
    await store.create_volume(VOL, 1000)
    await store.upload(VOL, "a", b"x" * 600)
    with pytest.raises(QuotaExceeded, match="to 1100 bytes, over its size limit of 1000 bytes"):
        await store.upload(VOL, "b/c", b"x" * 500)
    with pytest.raises(StorageNotFound):  # nothing was written, not even the directory
        await store.list_files(VOL, "b")
    await store.upload(VOL, "a", b"x" * 1000)  # replacing: the old 600 bytes are counted out
    assert await store.usage_bytes(VOL) == 1000
    with pytest.raises(QuotaExceeded):
        await store.upload(VOL, "one-more", b"x")


# --- confinement ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../x", "a//b", "a\x00b"])
async def test_paths_leaving_the_volume_are_refused(driver: Driver, bad: str) -> None:
    store = driver.store
    await store.create_volume(VOL, 1000)
    with pytest.raises(InvalidStorageRequest):
        await store.download(VOL, bad)
    with pytest.raises(InvalidStorageRequest):
        await store.upload(VOL, bad, b"x")
    with pytest.raises(InvalidStorageRequest):
        await store.list_files(VOL, bad)
    with pytest.raises(InvalidStorageRequest):
        await store.create_snapshot(VOL, SNAP, bad)
    assert await store.list_files(VOL, recursive=True) == []


async def test_links_a_pod_plants_never_lead_out_of_the_volume(driver: Driver) -> None:
    store = driver.store
    await store.create_volume(VOL, 10_000)
    driver.pod_writes(
        VOL,
        "write inside/f.txt ok; ln -s /etc/passwd /data/pw; ln -s /etc /data/etcdir;"
        " ln -s ../../.. /data/up; ln -s /v/missing /data/gone; ln -s inside /data/good;"
        " ln -s /v/inside/f.txt /data/absgood",
    )
    for path in ("pw", "etcdir/passwd", "up/etc/passwd"):
        with pytest.raises(InvalidStorageRequest, match="leading outside the volume"):
            await store.download(VOL, path)
    with pytest.raises(InvalidStorageRequest, match="leading outside the volume"):
        await store.list_files(VOL, "etcdir")
    with pytest.raises(InvalidStorageRequest, match="leading outside the volume"):
        await store.upload(VOL, "etcdir/planted", b"x")
    with pytest.raises(InvalidStorageRequest, match="leading outside the volume"):
        await store.upload(VOL, "pw", b"x")
    with pytest.raises(InvalidStorageRequest, match="leading outside the volume"):
        await store.create_snapshot(VOL, SNAP, "etcdir")
    with pytest.raises(InvalidStorageRequest, match="link to nothing"):
        await store.download(VOL, "gone")
    assert await store.download(VOL, "good/f.txt") == b"ok"
    assert await store.download(VOL, "absgood") == b"ok"
    await store.upload(VOL, "good/new.txt", b"n")  # through a link that stays inside
    assert await store.download(VOL, "inside/new.txt") == b"n"
    listed = {e.path: e for e in await store.list_files(VOL)}
    assert listed["pw"].is_symlink and not listed["pw"].is_dir and listed["pw"].size == 0
