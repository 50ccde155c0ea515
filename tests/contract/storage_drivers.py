"""The implementations the VolumeStore contract runs against, for the
test_storage_*_contract.py modules: FakeVolumeStore (the unit tests' stand-in), DockerVolumeStore
on the real engine, and the API's RemoteVolumeStore talking over a real grpc.aio channel to the
spawner's StorageServicer wrapping a real DockerVolumeStore ([fake], [docker] and [remote]).

What the protocol does not cover (a pod writing into its volume, a container holding a volume
mounted) goes through a small driver per implementation: the fake's test hooks, or real
containers of this test's own deployment on the engine. Each contract module declares its
`driver` fixture with DRIVER_PARAMS and opens the driver with open_driver."""

from __future__ import annotations

import contextlib
import secrets
import socket
from collections.abc import AsyncIterator
from typing import Protocol

import docker
import docker.errors
import grpc
import pytest

from services.api.remote_volumes import RemoteVolumeStore
from services.common.generated.pods.v1 import spawner_service_pb2_grpc as pb_grpc
from services.common.runtime.types import LABEL_DEPLOYMENT, LABEL_POD, LABEL_TENANT
from services.common.storage import wire
from services.common.storage.fake import FakeVolumeStore
from services.common.storage.types import (
    MountSpec,
    SnapshotKey,
    StorageKind,
    VolumeKey,
    VolumeStore,
    volume_name,
)
from services.spawner.platforms.docker.volumes import DockerVolumeStore, docker_mount
from services.spawner.storage_servicer import StorageServicer

IMAGE = "pods-http:latest"  # the Docker store's helper image, and the "pod" here
VOL = VolumeKey("dev", "vol1")
SNAP = SnapshotKey("dev", "snap1")
UPLOAD_MAX = (
    4 * 1024 * 1024
)  # the gateway's body limit (gateway/rest_listener.py: MAX_REQUEST_BODY_BYTES)


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


# The `driver` fixture's params in every contract module: the same ids as one module had.
DRIVER_PARAMS = [
    "fake",
    pytest.param("docker", marks=pytest.mark.docker),
    pytest.param("remote", marks=pytest.mark.docker),
]


@contextlib.asynccontextmanager
async def open_driver(kind: str) -> AsyncIterator[Driver]:
    """The driver of `kind` (one of DRIVER_PARAMS), cleaned up on leaving; skips the test when
    a Docker-backed kind has no engine or no helper image."""
    if kind == "fake":
        yield FakeDriver()
        return
    try:
        client = docker.from_env()
        client.ping()
        client.images.get(IMAGE)
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine or no {IMAGE}: {exc}")
    real = DockerDriver(client)
    server = await serve_remotely(real) if kind == "remote" else None
    try:
        yield real
    finally:
        if server is not None:
            assert isinstance(real.store, RemoteVolumeStore)
            await real.store.close()
            await server.stop(None)
        real.close()
        client.close()
