"""The VolumeStore contract: one set of behavioural cases run against FakeVolumeStore (the
unit tests' stand-in), against DockerVolumeStore on the real engine, and against the API's
RemoteVolumeStore talking over a real grpc.aio channel to the spawner's StorageServicer
wrapping a real DockerVolumeStore ([fake], [docker] and [remote]):
create a volume, upload, list, download, size limits, snapshots, delete, mounts and path
confinement (bad paths, and symbolic links a pod plants).

What the protocol does not cover (a pod writing into its volume, a container holding a volume
mounted) goes through a small driver per implementation: the fake's test hooks, or real
containers of this test's own deployment on the engine."""

from __future__ import annotations

import contextlib
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

import docker
import docker.errors
import grpc
import pytest

from services.api.remote_volumes import RemoteVolumeStore
from services.common.generated.pods.v1 import spawner_service_pb2_grpc as pb_grpc
from services.common.runtime.types import LABEL_DEPLOYMENT, LABEL_POD, LABEL_TENANT
from services.common.storage import wire
from services.common.storage.chunks import CHUNK_SIZE
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
    VolumeStore,
    snapshot_name,
    volume_name,
)
from services.spawner.platforms.docker.volumes import DockerVolumeStore, docker_mount
from services.spawner.storage_servicer import StorageServicer

IMAGE = "pods-http:latest"  # the Docker store's helper image, and the "pod" here
VOL = VolumeKey("dev", "vol1")
SNAP = SnapshotKey("dev", "snap1")
UPLOAD_MAX = 4 * 1024 * 1024  # the gateway's body limit (gateway/envoy_config.py)


class Driver(Protocol):
    """One implementation under test, and what the contract needs beyond the protocol."""

    store: VolumeStore
    deployment_id: str

    def pod_writes(self, key: VolumeKey, script: str) -> None:
        """A pod with the volume mounted at /data runs `script` (busybox sh)."""

    def hold_mount(self, name: str) -> None:
        """A pod's container now mounts the Docker volume `name`."""

    def release_mounts(self) -> None:
        """Every container hold_mount made is gone."""


class FakeDriver:
    """Pod scripts are the few shell commands the cases use, applied with the fake's hooks."""

    def __init__(self) -> None:
        self.fake = FakeVolumeStore("local")
        self.store: VolumeStore = self.fake
        self.deployment_id = "local"
        self.held: list[str] = []

    def pod_writes(self, key: VolumeKey, script: str) -> None:
        for command in script.split(";"):
            words = command.split()
            if words[:2] == ["ln", "-s"]:
                self.fake.plant_symlink(key, words[3].removeprefix("/data/"), words[2])
            elif words[:1] == ["write"]:
                self.fake.plant_file(key, words[1], words[2].encode())
            else:
                raise AssertionError(f"the fake driver cannot run {command!r}")

    def hold_mount(self, name: str) -> None:
        self.fake.hold_mount(name, "pods-local-dev-web1")
        self.held.append(name)

    def release_mounts(self) -> None:
        for name in self.held:
            self.fake.release_mount(name, "pods-local-dev-web1")


class DockerDriver:
    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self.deployment_id = f"c{secrets.token_hex(4)}"
        self.docker_store = DockerVolumeStore(self.deployment_id)
        self.store: VolumeStore = self.docker_store
        self.held: list[str] = []

    def _run(self, mounts: list[MountSpec], pod_id: str, script: str | None) -> str:
        container = self.client.containers.run(
            IMAGE,
            command=["sh", "-c", script] if script is not None else None,
            mounts=[docker_mount(mount) for mount in mounts],
            labels={
                LABEL_DEPLOYMENT: self.deployment_id,
                LABEL_TENANT: "dev",
                LABEL_POD: pod_id,
            },
            name=f"pods-{self.deployment_id}-dev-{pod_id}",
            init=True,
            network_mode="none",
            detach=True,
        )
        return str(container.id)

    def pod_writes(self, key: VolumeKey, script: str) -> None:
        name = volume_name(self.deployment_id, key)
        mount = MountSpec(StorageKind.VOLUME, name, "/data", read_only=False)
        script = script.replace("write ", "w ")
        helpers = 'w() { mkdir -p "$(dirname "/data/$1")"; printf %s "$2" > "/data/$1"; }; '
        container_id = self._run([mount], "writer", helpers + "set -e; " + script)
        container = self.client.containers.get(container_id)
        try:
            result = container.wait(timeout=60)
            assert result["StatusCode"] == 0, container.logs().decode(errors="replace")
        finally:
            container.remove(force=True)

    def hold_mount(self, name: str) -> None:
        kind = StorageKind.SNAPSHOT if "-snap-" in name else StorageKind.VOLUME
        mount = MountSpec(kind, name, "/data", read_only=kind is StorageKind.SNAPSHOT)
        self.held.append(self._run([mount], f"web{len(self.held) + 1}", None))

    def release_mounts(self) -> None:
        for container_id in self.held:
            with contextlib.suppress(docker.errors.NotFound):
                self.client.api.remove_container(container_id, force=True)
        self.held.clear()

    def close(self) -> None:
        self.docker_store.close()
        label = f"{LABEL_DEPLOYMENT}={self.deployment_id}"
        for summary in self.client.api.containers(all=True, filters={"label": label}):
            with contextlib.suppress(docker.errors.NotFound):
                self.client.api.remove_container(summary["Id"], v=True, force=True)
        for volume in self.client.api.volumes(filters={"label": label}).get("Volumes") or []:
            with contextlib.suppress(docker.errors.NotFound):
                self.client.api.remove_volume(volume["Name"], force=True)


async def serve_remotely(real: DockerDriver) -> grpc.aio.Server:
    """Serves the real store's StorageServicer on a free port; the driver's store becomes a
    RemoteVolumeStore on a real channel to it."""
    server = grpc.aio.server(options=wire.SERVER_OPTIONS)  # as the spawner's
    pb_grpc.add_SpawnerServiceServicer_to_server(StorageServicer(real.docker_store), server)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    real.store = RemoteVolumeStore(f"127.0.0.1:{port}")
    return server


@pytest.fixture(
    params=[
        "fake",
        pytest.param("docker", marks=pytest.mark.docker),
        pytest.param("remote", marks=pytest.mark.docker),
    ]
)
async def driver(request: pytest.FixtureRequest) -> AsyncIterator[Driver]:
    if request.param == "fake":
        yield FakeDriver()
        return
    try:
        client = docker.from_env()
        client.ping()
        client.images.get(IMAGE)
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine or no {IMAGE}: {exc}")
    real = DockerDriver(client)
    server = await serve_remotely(real) if request.param == "remote" else None
    try:
        yield real
    finally:
        if server is not None:
            assert isinstance(real.store, RemoteVolumeStore)
            await real.store.close()
            await server.stop(None)
        real.close()
        client.close()


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
