"""DockerVolumeStore against the real Docker engine: volumes, files, limits, snapshots,
confinement (paths and planted symbolic links), mounts into pods."""

from __future__ import annotations

import asyncio
import time

import docker
import docker.errors
import pytest

from services.common.outcomes import PermanentError
from services.common.runtime.types import LABEL_DEPLOYMENT
from services.common.storage.types import (
    LABEL_STORAGE_HELPER,
    InvalidStorageRequest,
    MountSpec,
    QuotaExceeded,
    SnapshotKey,
    StorageConflict,
    StorageKind,
    StorageNotFound,
    VolumeKey,
    volume_name,
)
from services.spawner.platforms.docker.volumes import DockerVolumeStore
from services.spawner.storage.helper_answers import SNAPSHOT_MARKER

from .conftest import StartPod

pytestmark = pytest.mark.docker

VOL = VolumeKey("dev", "vol1")
SNAP = SnapshotKey("dev", "snap1")


def pod_writes(start_pod: StartPod, mount: MountSpec, script: str) -> None:
    """Runs `script` in a short-lived pod with `mount`, as a pod writing its volume would."""
    container = start_pod(mount, pod_id="writer", script=script)
    try:
        result = container.wait(timeout=60)
        logs = container.logs().decode(errors="replace")
        assert result["StatusCode"] == 0, logs
    finally:
        container.remove(force=True)


def helpers_left(client: docker.DockerClient, deployment_id: str) -> list[str]:
    labels = [f"{LABEL_DEPLOYMENT}={deployment_id}", LABEL_STORAGE_HELPER]
    return [c["Id"] for c in client.api.containers(all=True, filters={"label": labels})]


async def test_create_upload_list_download_roundtrip(
    store: DockerVolumeStore, docker_client: docker.DockerClient, deployment_id: str
) -> None:
    info = await store.create_volume(VOL, 10_000)
    assert info.name == f"pods-{deployment_id}-vol-dev-vol1"
    assert info.size_limit_bytes == 10_000
    assert info.created_at is not None
    assert await store.create_volume(VOL, 10_000) == info  # idempotent
    labels = docker_client.api.inspect_volume(info.name)["Labels"]
    assert labels[LABEL_DEPLOYMENT] == deployment_id

    await store.upload(VOL, "a/b/c.txt", b"hello")
    await store.upload(VOL, "top.bin", bytes(range(256)))
    await store.upload(VOL, "dir with space/ü.txt", "grüß".encode())
    assert await store.download(VOL, "a/b/c.txt") == b"hello"
    assert await store.download(VOL, "top.bin") == bytes(range(256))
    assert await store.download(VOL, "dir with space/ü.txt") == "grüß".encode()

    top = await store.list_files(VOL)
    assert [(e.path, e.is_dir, e.size) for e in top] == [
        ("a", True, 0),
        ("dir with space", True, 0),
        ("top.bin", False, 256),
    ]
    deep = await store.list_files(VOL, "a", recursive=True)
    assert [e.path for e in deep] == ["a/b", "a/b/c.txt"]
    assert [(e.path, e.size) for e in await store.list_files(VOL, "a/b/c.txt")] == [
        ("a/b/c.txt", 5)
    ]
    assert await store.usage_bytes(VOL) == 5 + 256 + len("grüß".encode())

    await store.upload(VOL, "a/b/c.txt", b"replaced")
    assert await store.download(VOL, "a/b/c.txt") == b"replaced"
    assert [i.key for i in await store.list_volumes()] == [VOL]
    assert await store.get_volume(VOL) == info
    assert len(helpers_left(docker_client, deployment_id)) == 2  # read-only and read-write
    store.close()
    assert helpers_left(docker_client, deployment_id) == []


async def test_a_helper_serves_the_next_calls_and_goes_when_idle(
    docker_client: docker.DockerClient, deployment_id: str
) -> None:
    # Idle after 3 s: long enough that the next calls reuse it even on a busy machine.
    store = DockerVolumeStore(deployment_id, helper_idle_s=3.0)
    try:
        await store.create_volume(VOL, 1000)
        await store.upload(VOL, "f", b"x")
        await store.list_files(VOL)
        first = helpers_left(docker_client, deployment_id)
        await store.list_files(VOL)
        await store.download(VOL, "f")
        assert helpers_left(docker_client, deployment_id) == first  # reused, none added
        assert len(first) == 2
        deadline = time.monotonic() + 30  # idle after 3 s; removal is slow on a busy engine
        while helpers_left(docker_client, deployment_id) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert helpers_left(docker_client, deployment_id) == []
        await store.list_files(VOL)  # a new one when needed again
        docker_client.api.remove_container(
            helpers_left(docker_client, deployment_id)[0], force=True
        )
        assert [e.path for e in await store.list_files(VOL)] == ["f"]  # a dead one is replaced
        assert await store.delete_volume(VOL) is True  # its pooled helper is no obstacle
    finally:
        store.close()


async def test_file_errors(store: DockerVolumeStore) -> None:
    await store.create_volume(VOL, 10_000)
    await store.upload(VOL, "d/f", b"x")
    with pytest.raises(InvalidStorageRequest, match="'d' is a directory"):
        await store.download(VOL, "d")
    with pytest.raises(InvalidStorageRequest, match="'d' is a directory"):
        await store.upload(VOL, "d", b"x")
    with pytest.raises(InvalidStorageRequest, match="'d/f' is not a directory"):
        await store.upload(VOL, "d/f/g", b"x")
    with pytest.raises(StorageNotFound, match="'nope' does not exist"):
        await store.download(VOL, "nope")
    with pytest.raises(StorageNotFound, match="'nope' does not exist"):
        await store.list_files(VOL, "nope")
    with pytest.raises(StorageNotFound, match="volume 'vol2' of tenant 'dev' does not exist"):
        await store.upload(VolumeKey("dev", "vol2"), "x", b"")
    with pytest.raises(StorageConflict, match="size limit of 10000 bytes, not 5"):
        await store.create_volume(VOL, 5)
    with pytest.raises(InvalidStorageRequest, match="volume id"):
        await store.create_volume(VolumeKey("dev", "Bad-Id"), 5)


async def test_size_limit_enforced(store: DockerVolumeStore) -> None:
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


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../x", "a//b", "a\x00b"])
async def test_path_traversal_refused(store: DockerVolumeStore, bad: str) -> None:
    await store.create_volume(VOL, 1000)
    with pytest.raises(InvalidStorageRequest):
        await store.download(VOL, bad)
    with pytest.raises(InvalidStorageRequest):
        await store.upload(VOL, bad, b"x")
    with pytest.raises(InvalidStorageRequest):
        await store.list_files(VOL, bad)
    with pytest.raises(InvalidStorageRequest):
        await store.create_snapshot(VOL, SNAP, bad)


async def test_symlink_escapes_refused(store: DockerVolumeStore, start_pod: StartPod) -> None:
    await store.create_volume(VOL, 10_000)
    mount = await store.mount_for(StorageKind.VOLUME, VOL, "/data")
    pod_writes(
        start_pod,
        mount,
        "set -e; cd /data; mkdir inside; echo ok > inside/f.txt;"
        " ln -s /etc/passwd pw; ln -s /etc etcdir; ln -s ../../.. up; ln -s /data/nowhere gone;"
        " ln -s loop loop; ln -s inside good; ln -s /v/inside/f.txt absgood",
    )
    for path in ("pw", "etcdir/passwd", "up/etc/passwd", "etcdir/hostname"):
        with pytest.raises(InvalidStorageRequest, match="leading outside the volume"):
            await store.download(VOL, path)
    for path in ("etcdir", "up"):
        with pytest.raises(InvalidStorageRequest, match="leading outside the volume"):
            await store.list_files(VOL, path)
    with pytest.raises(InvalidStorageRequest, match="leading outside the volume"):
        await store.upload(VOL, "etcdir/planted", b"x")
    with pytest.raises(InvalidStorageRequest, match="leading outside the volume"):
        await store.upload(VOL, "pw", b"x")
    with pytest.raises(InvalidStorageRequest, match="leading outside the volume"):
        await store.create_snapshot(VOL, SNAP, "etcdir")
    with pytest.raises(InvalidStorageRequest, match="link to nothing"):
        await store.download(VOL, "gone")
    with pytest.raises(InvalidStorageRequest, match=r"link to nothing|cannot be resolved"):
        await store.download(VOL, "loop")

    # links that stay inside are followed
    assert await store.download(VOL, "good/f.txt") == b"ok\n"
    assert await store.download(VOL, "absgood") == b"ok\n"
    await store.upload(VOL, "good/new.txt", b"n")
    assert await store.download(VOL, "inside/new.txt") == b"n"
    assert [e.path for e in await store.list_files(VOL, "good")] == ["good/f.txt", "good/new.txt"]

    # listing shows links as links, never what they point at
    listed = {e.path: e for e in await store.list_files(VOL)}
    assert listed["pw"].is_symlink and not listed["pw"].is_dir and listed["pw"].size == 0
    assert listed["etcdir"].is_symlink and not listed["etcdir"].is_dir
    recursive = [e.path for e in await store.list_files(VOL, recursive=True)]
    assert not any(path.startswith(("etcdir/", "up/")) for path in recursive)

    # a snapshot copies links as links: still refused when read through the snapshot
    await store.create_snapshot(VOL, SNAP)
    with pytest.raises(InvalidStorageRequest, match="leading outside the volume"):
        await store.download_snapshot(SNAP, "pw")
    with pytest.raises(InvalidStorageRequest, match="leading outside the volume"):
        await store.list_snapshot_files(SNAP, "etcdir")
    assert await store.download_snapshot(SNAP, "good/f.txt") == b"ok\n"


async def test_names_a_pod_may_create_are_listed(
    store: DockerVolumeStore, start_pod: StartPod
) -> None:
    await store.create_volume(VOL, 10_000)
    mount = await store.mount_for(StorageKind.VOLUME, VOL, "/data")
    pod_writes(
        start_pod,
        mount,
        "set -e; cd /data; printf 12 > \"$(printf 'two\\nlines')\"; mkdir -p locked;"
        " echo secret > locked/f; chown -R 999:999 locked; chmod 700 locked; chmod 600 locked/f;"
        " mkfifo pipe",
    )
    listed = {e.path: e for e in await store.list_files(VOL, recursive=True)}
    assert listed["two\nlines"].size == 2
    assert listed["locked/f"].size == 7
    assert not listed["pipe"].is_dir and listed["pipe"].size == 0
    assert await store.download(VOL, "locked/f") == b"secret\n"
    with pytest.raises(InvalidStorageRequest, match="not a regular file"):
        await store.download(VOL, "pipe")
    with pytest.raises(InvalidStorageRequest, match="control character"):
        await store.download(VOL, "two\nlines")


async def test_snapshot_is_a_copy_at_snapshot_time(
    store: DockerVolumeStore, start_pod: StartPod
) -> None:
    await store.create_volume(VOL, 100_000)
    await store.upload(VOL, "d/f.txt", b"before")
    await store.upload(VOL, "d/e/g.txt", b"g" * 100)
    await store.upload(VOL, "top.txt", b"t")
    source_listing = await store.list_files(VOL, recursive=True)

    info = await store.create_snapshot(VOL, SNAP)
    assert (info.source, info.source_path, info.size_bytes) == (VOL, "", 107)

    await store.upload(VOL, "d/f.txt", b"after, and longer")
    await store.upload(VOL, "new.txt", b"new")
    mount = await store.mount_for(StorageKind.VOLUME, VOL, "/data")
    pod_writes(start_pod, mount, "rm -rf /data/d/e")

    assert await store.download_snapshot(SNAP, "d/f.txt") == b"before"
    snapshot_listing = await store.list_snapshot_files(SNAP, recursive=True)
    assert [(e.path, e.size, e.is_dir) for e in snapshot_listing] == [
        (e.path, e.size, e.is_dir) for e in source_listing
    ]
    assert SNAPSHOT_MARKER not in {e.path for e in snapshot_listing}
    with pytest.raises(StorageNotFound):
        await store.download_snapshot(SNAP, SNAPSHOT_MARKER)
    assert await store.usage_bytes(SNAP) == 107

    again = await store.create_snapshot(VOL, SNAP)  # idempotent: not copied again
    assert again.size_bytes == 107
    assert await store.download_snapshot(SNAP, "d/f.txt") == b"before"
    with pytest.raises(StorageConflict, match="already exists, taken from volume 'vol1'"):
        await store.create_snapshot(VOL, SNAP, "d")
    assert [s.key for s in await store.list_snapshots("dev")] == [SNAP]
    got = await store.get_snapshot(SNAP)
    assert got is not None and got.source == VOL


async def test_snapshot_of_a_sub_path(store: DockerVolumeStore) -> None:
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
    with pytest.raises(StorageNotFound, match="'nope' does not exist in volume 'vol1'"):
        await store.create_snapshot(VOL, SnapshotKey("dev", "snap3"), "nope")
    assert await store.get_snapshot(SnapshotKey("dev", "snap3")) is None  # nothing left behind


async def test_snapshot_size_limit(store: DockerVolumeStore) -> None:
    await store.create_volume(VOL, 10_000)
    await store.upload(VOL, "f", b"x" * 100)
    with pytest.raises(QuotaExceeded, match="over the snapshot size limit of 10 bytes"):
        await store.create_snapshot(VOL, SNAP, size_limit_bytes=10)
    assert await store.get_snapshot(SNAP) is None
    info = await store.create_snapshot(VOL, SNAP, size_limit_bytes=100)
    assert info.size_bytes == 100


async def test_interrupted_snapshot_is_refused_then_copied_again(
    store: DockerVolumeStore, start_pod: StartPod, docker_client: docker.DockerClient
) -> None:
    await store.create_volume(VOL, 10_000)
    await store.upload(VOL, "f", b"one")
    info = await store.create_snapshot(VOL, SNAP)
    # simulate a copy cut short: the marker is missing and a stray file is there
    broken = MountSpec(StorageKind.SNAPSHOT, info.name, "/snap", read_only=False)
    pod_writes(start_pod, broken, f"rm /snap/{SNAPSHOT_MARKER}; echo junk > /snap/junk")
    with pytest.raises(StorageConflict, match="incomplete"):
        await store.list_snapshot_files(SNAP)
    with pytest.raises(StorageConflict, match="incomplete"):
        await store.download_snapshot(SNAP, "f")
    await store.upload(VOL, "f", b"two")
    again = await store.create_snapshot(VOL, SNAP)
    assert again.size_bytes == 3
    assert [e.path for e in await store.list_snapshot_files(SNAP)] == ["f"]
    assert await store.download_snapshot(SNAP, "f") == b"two"


async def test_delete_refuses_while_mounted(
    store: DockerVolumeStore, start_pod: StartPod, docker_client: docker.DockerClient
) -> None:
    await store.create_volume(VOL, 1000)
    await store.upload(VOL, "f", b"x")
    await store.create_snapshot(VOL, SNAP)
    pod = start_pod(
        await store.mount_for(StorageKind.VOLUME, VOL, "/data"),
        await store.mount_for(StorageKind.SNAPSHOT, SNAP, "/snap"),
    )
    with pytest.raises(
        StorageConflict, match=r"still mounted by container pods-.*-dev-web1 \(pod web1, running\)"
    ):
        await store.delete_volume(VOL)
    with pytest.raises(StorageConflict, match="still mounted"):
        await store.delete_snapshot(SNAP)
    pod.stop(timeout=5)
    with pytest.raises(StorageConflict, match="exited"):  # a stopped container still holds it
        await store.delete_volume(VOL)
    pod.remove(force=True)
    assert await store.delete_volume(VOL) is True
    assert await store.delete_volume(VOL) is False
    assert await store.download_snapshot(SNAP, "f") == b"x"  # independent of its source
    assert (await store.create_snapshot(VOL, SNAP)).size_bytes == 1  # a replay still answers
    assert await store.delete_snapshot(SNAP) is True
    assert await store.delete_snapshot(SNAP) is False
    with pytest.raises(docker.errors.NotFound):
        docker_client.api.inspect_volume(volume_name(store.deployment_id, VOL))


async def test_pod_sees_uploads_and_snapshot_mount_is_read_only(
    store: DockerVolumeStore, start_pod: StartPod
) -> None:
    await store.create_volume(VOL, 1000)
    await store.upload(VOL, "conf/app.txt", b"from the api\n")
    await store.create_snapshot(VOL, SNAP)
    volume_mount = await store.mount_for(StorageKind.VOLUME, VOL, "/data")
    snapshot_mount = await store.mount_for(StorageKind.SNAPSHOT, SNAP, "/snap", read_only=False)
    assert snapshot_mount.read_only is True
    pod = start_pod(volume_mount, snapshot_mount)
    code, out = pod.exec_run(["cat", "/data/conf/app.txt"])
    assert (code, out) == (0, b"from the api\n")
    code, out = pod.exec_run(["cat", "/snap/conf/app.txt"])
    assert (code, out) == (0, b"from the api\n")
    code, _ = pod.exec_run(["sh", "-c", "echo x > /snap/new.txt"])
    assert code != 0
    code, _ = pod.exec_run(["sh", "-c", "echo x > /data/new.txt"])
    assert code == 0
    assert await store.download(VOL, "new.txt") == b"x\n"
    ro = await store.mount_for(StorageKind.VOLUME, VOL, "/ro", read_only=True)
    reader = start_pod(ro, pod_id="reader")
    code, _ = reader.exec_run(["sh", "-c", "echo x > /ro/other.txt"])
    assert code != 0


async def test_mount_for_checks(store: DockerVolumeStore) -> None:
    await store.create_volume(VOL, 1000)
    spec = await store.mount_for(StorageKind.VOLUME, VOL, "/data/")
    assert spec == MountSpec(
        StorageKind.VOLUME, volume_name(store.deployment_id, VOL), "/data", False
    )
    with pytest.raises(StorageNotFound):
        await store.mount_for(StorageKind.VOLUME, VolumeKey("dev", "nope"), "/data")
    with pytest.raises(StorageNotFound):
        await store.mount_for(StorageKind.SNAPSHOT, SNAP, "/data")
    with pytest.raises(InvalidStorageRequest, match="reserved"):
        await store.mount_for(StorageKind.VOLUME, VOL, "/proc/x")
    with pytest.raises(InvalidStorageRequest, match="needs a SnapshotKey"):
        await store.mount_for(StorageKind.SNAPSHOT, VOL, "/data")


async def test_sub_path_follows_the_engine(store: DockerVolumeStore, start_pod: StartPod) -> None:
    await store.create_volume(VOL, 1000)
    await store.upload(VOL, "real/dir/f", b"f")
    version = await store.engine_api_version()
    if not await store.subpath_supported():
        with pytest.raises(InvalidStorageRequest, match=f"API >= 1.45.*speaks {version}"):
            await store.mount_for(StorageKind.VOLUME, VOL, "/data", sub_path="real")
        store._api_version = "1.45"  # what a newer engine would answer: the checks below
    mount = await store.mount_for(StorageKind.VOLUME, VOL, "/data")
    pod_writes(start_pod, mount, "ln -s real /data/link && ln -s /etc /data/out")
    spec = await store.mount_for(StorageKind.VOLUME, VOL, "/data", sub_path="link/dir")
    assert spec.sub_path == "real/dir"  # resolved, so Docker never follows our links
    with pytest.raises(InvalidStorageRequest, match="leading outside"):
        await store.mount_for(StorageKind.VOLUME, VOL, "/data", sub_path="out")
    with pytest.raises(InvalidStorageRequest, match="not a directory"):
        await store.mount_for(StorageKind.VOLUME, VOL, "/data", sub_path="real/dir/f")
    with pytest.raises(StorageNotFound):
        await store.mount_for(StorageKind.VOLUME, VOL, "/data", sub_path="nope")


async def test_foreign_volume_with_our_name_is_left_alone(
    store: DockerVolumeStore, docker_client: docker.DockerClient, foreign_volumes: list[str]
) -> None:
    name = volume_name(store.deployment_id, VOL)
    docker_client.api.create_volume(name=name)
    foreign_volumes.append(name)
    for attempt in (
        store.create_volume(VOL, 1000),
        store.delete_volume(VOL),
        store.download(VOL, "x"),
    ):
        with pytest.raises(StorageConflict, match="did not create"):
            await attempt
    assert await store.list_volumes() == []
    docker_client.api.inspect_volume(name)  # still there


async def test_missing_helper_image_is_permanent(
    store: DockerVolumeStore, deployment_id: str
) -> None:
    await store.create_volume(VOL, 1000)
    broken = DockerVolumeStore(deployment_id, helper_image="pods-no-such-image:never")
    try:
        with pytest.raises(PermanentError, match="storage helper image") as caught:
            await broken.list_files(VOL)
        assert not isinstance(caught.value, docker.errors.DockerException)
    finally:
        broken.close()


async def test_concurrent_uploads_respect_the_limit(store: DockerVolumeStore) -> None:
    await store.create_volume(VOL, 1000)
    results = await asyncio.gather(
        *(store.upload(VOL, f"f{i}", b"x" * 300) for i in range(5)), return_exceptions=True
    )
    assert sum(1 for r in results if isinstance(r, QuotaExceeded)) == 2
    assert await store.usage_bytes(VOL) == 900
