"""KubernetesVolumeStore with its helper pods running as real containers on real volumes
(DockerBackedKubeApi: no cluster can be had here): claims, files, limits, snapshots,
confinement, mounts, and what the store leaves behind."""

from __future__ import annotations

import os
from collections.abc import Iterator

import docker
import pytest

from services.common.runtime.types import LABEL_DEPLOYMENT, LABEL_POD, LABEL_TENANT
from services.common.storage.types import (
    LABEL_SIZE_LIMIT,
    LABEL_VOLUME,
    InvalidStorageRequest,
    MountSpec,
    QuotaExceeded,
    SnapshotKey,
    StorageConflict,
    StorageKind,
    StorageNotFound,
    VolumeKey,
)
from services.spawner.platforms.kubernetes.claims import ClaimSettings
from services.spawner.platforms.kubernetes.config import KubernetesConfig
from services.spawner.platforms.kubernetes.volumes import KubernetesVolumeStore
from services.spawner.storage.helper_answers import SNAPSHOT_MARKER

from .conftest import StartPod, remove_deployment
from .docker_cluster import DockerBackedKubeApi

pytestmark = pytest.mark.docker

VOL = VolumeKey("dev", "vol1")
SNAP = SnapshotKey("dev", "snap1")


@pytest.fixture
def cluster(
    docker_client: docker.DockerClient, deployment_id: str
) -> Iterator[DockerBackedKubeApi]:
    api = DockerBackedKubeApi(docker_client=docker_client, deployment_id=deployment_id)
    yield api
    remove_deployment(docker_client, deployment_id)


@pytest.fixture
def store(cluster: DockerBackedKubeApi, deployment_id: str) -> Iterator[KubernetesVolumeStore]:
    volume_store = KubernetesVolumeStore(
        deployment_id,
        KubernetesConfig(),
        ClaimSettings(storage_class="fast"),
        api_factory=lambda: cluster,
        poll_interval_s=0.05,
    )
    yield volume_store
    volume_store.close()


def pod_writes(start_pod: StartPod, claim: str, script: str) -> None:
    """Runs `script` in a short-lived pod with the claim at /v, as a user's pod would."""
    container = start_pod(MountSpec(StorageKind.VOLUME, claim, "/v", False), script=script)
    try:
        assert container.wait(timeout=60)["StatusCode"] == 0, container.logs()
    finally:
        container.remove(force=True)


def user_pod(name: str, deployment_id: str, claim: str) -> dict[str, object]:
    """A user's Pod object mounting `claim`, as the runtime would create it."""
    return {
        "metadata": {
            "name": name,
            "labels": {LABEL_DEPLOYMENT: deployment_id, LABEL_TENANT: "dev", LABEL_POD: "web1"},
        },
        "spec": {
            "nodeName": "node-a",
            "containers": [{"name": "main", "image": "x"}],
            "volumes": [{"name": "data-0", "persistentVolumeClaim": {"claimName": claim}}],
        },
    }


async def test_a_volume_is_a_claim_and_files_round_trip_byte_for_byte(
    store: KubernetesVolumeStore, cluster: DockerBackedKubeApi, deployment_id: str
) -> None:
    info = await store.create_volume(VOL, 4_000_000)
    assert info.name == f"pods-{deployment_id}-vol-dev-vol1"
    assert await store.create_volume(VOL, 4_000_000) == info  # idempotent
    claim = cluster.get("persistentvolumeclaims", info.name)
    assert claim["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "4000000"}},
        "storageClassName": "fast",
    }
    assert claim["metadata"]["annotations"][LABEL_SIZE_LIMIT] == "4000000"
    assert claim["metadata"]["labels"][LABEL_VOLUME] == "vol1"

    binary = os.urandom(1_000_000) + b"\0\r\n\xff"
    await store.upload(VOL, "a/b/blob.bin", binary)
    await store.upload(VOL, "dir with space/ü.txt", "grüß".encode())
    assert await store.download(VOL, "a/b/blob.bin") == binary
    assert await store.download(VOL, "dir with space/ü.txt") == "grüß".encode()
    listing = await store.list_files(VOL, "", recursive=True)
    assert [(e.path, e.is_dir, e.size) for e in listing] == [
        ("a", True, 0),
        ("a/b", True, 0),
        ("a/b/blob.bin", False, len(binary)),
        ("dir with space", True, 0),
        ("dir with space/ü.txt", False, len("grüß".encode())),
    ]
    assert await store.usage_bytes(VOL) == len(binary) + len("grüß".encode())
    assert [v.key for v in await store.list_volumes("dev")] == [VOL]
    assert await store.list_volumes("other") == []
    assert len(cluster.names("pods")) == 2  # a read-only and a read-write helper wait
    assert len(cluster.created_pods) == 2  # and served every call
    store.close()
    assert cluster.names("pods") == []  # every helper deleted
    assert cluster.containers == {}


async def test_helpers_are_locked_down(
    store: KubernetesVolumeStore, cluster: DockerBackedKubeApi
) -> None:
    await store.create_volume(VOL, 1000)
    await store.list_files(VOL)
    spec = cluster.created_pods[-1]["spec"]
    security = spec["containers"][0]["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["volumes"][0]["persistentVolumeClaim"]["readOnly"] is True  # listing: read-only


async def test_bad_input_and_limits_change_nothing(store: KubernetesVolumeStore) -> None:
    await store.create_volume(VOL, 10)
    with pytest.raises(StorageConflict, match="size limit of 10"):
        await store.create_volume(VOL, 20)
    await store.upload(VOL, "f", b"12345")
    with pytest.raises(QuotaExceeded, match="over its size limit of 10"):
        await store.upload(VOL, "g", b"123456")
    await store.upload(VOL, "f", b"1234567890")  # replacing counts the old size out
    for bad in ("../etc/passwd", "a/../../x", "/abs/../.."):
        with pytest.raises(InvalidStorageRequest):
            await store.download(VOL, bad)
    with pytest.raises(StorageNotFound):
        await store.download(VOL, "missing")
    with pytest.raises(StorageNotFound):
        await store.list_files(VolumeKey("dev", "nosuch"))
    assert [(e.path, e.size) for e in await store.list_files(VOL)] == [("f", 10)]


async def test_links_planted_by_a_pod_never_lead_outside(
    store: KubernetesVolumeStore, start_pod: StartPod
) -> None:
    info = await store.create_volume(VOL, 10_000)
    pod_writes(start_pod, info.name, "ln -s /etc /v/out && ln -s /etc/passwd /v/pw")
    with pytest.raises(InvalidStorageRequest, match="outside the volume"):
        await store.list_files(VOL, "out")
    with pytest.raises(InvalidStorageRequest, match="outside the volume"):
        await store.download(VOL, "pw")
    with pytest.raises(InvalidStorageRequest, match="outside the volume"):
        await store.upload(VOL, "out/evil", b"x")


async def test_a_snapshot_is_a_complete_copy_at_snapshot_time(
    store: KubernetesVolumeStore, cluster: DockerBackedKubeApi
) -> None:
    await store.create_volume(VOL, 10_000)
    await store.upload(VOL, "data/a.txt", b"before")
    taken = await store.create_snapshot(VOL, SNAP)
    assert taken.size_bytes == len(b"before")
    await store.upload(VOL, "data/a.txt", b"after!")
    assert await store.download_snapshot(SNAP, "data/a.txt") == b"before"
    paths = [e.path for e in await store.list_snapshot_files(SNAP, "", recursive=True)]
    assert paths == ["data", "data/a.txt"]
    assert SNAPSHOT_MARKER not in paths
    with pytest.raises(StorageNotFound):
        await store.download_snapshot(SNAP, SNAPSHOT_MARKER)
    again = await store.create_snapshot(VOL, SNAP)  # a replay returns the complete snapshot
    assert (again.size_bytes, again.source) == (len(b"before"), VOL)
    claim = cluster.get("persistentvolumeclaims", taken.name)
    assert claim["spec"]["resources"]["requests"]["storage"] == "10000"  # the source's limit

    part = await store.create_snapshot(VOL, SnapshotKey("dev", "part"), "data/a.txt")
    assert await store.download_snapshot(SnapshotKey("dev", "part"), "a.txt") == b"after!"
    assert part.source_path == "data/a.txt"
    with pytest.raises(QuotaExceeded):
        await store.create_snapshot(VOL, SnapshotKey("dev", "small"), "", size_limit_bytes=3)
    assert [s.key.snapshot_id for s in await store.list_snapshots("dev")] == ["part", "snap1"]
    store.close()
    assert cluster.names("pods") == []


async def test_deleting_a_claim_a_pod_mounts_is_refused(
    store: KubernetesVolumeStore, cluster: DockerBackedKubeApi, deployment_id: str
) -> None:
    info = await store.create_volume(VOL, 1000)
    cluster.add_object("pods", user_pod("pods-x-dev-web1", deployment_id, info.name))
    with pytest.raises(StorageConflict, match="pods-x-dev-web1"):
        await store.delete_volume(VOL)
    assert await store.get_volume(VOL) is not None
    cluster.delete("pods", "pods-x-dev-web1")
    assert await store.delete_volume(VOL) is True
    assert await store.get_volume(VOL) is None
    assert await store.delete_volume(VOL) is False


async def test_helpers_follow_a_read_write_once_claim_to_its_node(
    store: KubernetesVolumeStore, cluster: DockerBackedKubeApi, deployment_id: str
) -> None:
    info = await store.create_volume(VOL, 1000)
    cluster.add_object("pods", user_pod("pods-x-dev-web1", deployment_id, info.name))
    await store.upload(VOL, "f", b"x")
    assert cluster.created_pods[-1]["spec"]["nodeName"] == "node-a"


async def test_mounts_resolve_sub_paths_inside_the_volume(
    store: KubernetesVolumeStore, cluster: DockerBackedKubeApi, start_pod: StartPod
) -> None:
    info = await store.create_volume(VOL, 1000)
    await store.upload(VOL, "site/index.html", b"<p>")
    pod_writes(start_pod, info.name, "ln -s site /v/alias && ln -s /etc /v/escape")
    mount = await store.mount_for(StorageKind.VOLUME, VOL, "/data", "alias")
    assert mount == MountSpec(StorageKind.VOLUME, info.name, "/data", False, "site")
    assert cluster.names("pods") == []  # a pod will mount it: no helper holds on to it
    with pytest.raises(InvalidStorageRequest, match="outside the volume"):
        await store.mount_for(StorageKind.VOLUME, VOL, "/data", "escape")
    with pytest.raises(StorageNotFound):
        await store.mount_for(StorageKind.VOLUME, VOL, "/data", "nothing")
    await store.create_snapshot(VOL, SNAP)
    snapshot = await store.mount_for(StorageKind.SNAPSHOT, SNAP, "/ro")
    assert snapshot.read_only is True


async def test_a_foreign_claim_with_our_name_is_left_alone(
    store: KubernetesVolumeStore, cluster: DockerBackedKubeApi, deployment_id: str
) -> None:
    name = f"pods-{deployment_id}-vol-dev-vol1"
    cluster.add_object("persistentvolumeclaims", {"metadata": {"name": name}, "spec": {}})
    with pytest.raises(StorageConflict, match="did not create"):
        await store.create_volume(VOL, 1000)
    with pytest.raises(StorageConflict, match="did not create"):
        await store.delete_volume(VOL)
    assert cluster.names("persistentvolumeclaims") == [name]
