"""Fixtures for DockerVolumeStore against the real Docker engine of this machine.

Every test gets a unique deployment id (`s<hex>`); teardown force-removes every container
and then every volume labelled with it (plus unlabelled volumes a test registered by name),
so tests never touch other people's volumes on the shared engine. Needs the local image
`pods-http:latest` (busybox; scripts/build-images builds it): it is both the helper image and
the "pod" the tests start.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator

import docker
import docker.errors
import pytest

from services.common.runtime.types import LABEL_DEPLOYMENT, LABEL_POD, LABEL_TENANT
from services.common.storage.types import MountSpec
from services.spawner.platforms.docker.volumes import DockerVolumeStore, docker_mount

IMAGE = "pods-http:latest"


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine: {exc}")
    try:
        client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        client.close()
        pytest.skip(f"image {IMAGE} is missing (scripts/build-images builds it)")
    yield client
    client.close()


@pytest.fixture
def deployment_id() -> str:
    return f"s{secrets.token_hex(4)}"


def remove_deployment(client: docker.DockerClient, deployment_id: str) -> None:
    """Force-removes every container, then every volume, labelled with `deployment_id`."""
    label = f"{LABEL_DEPLOYMENT}={deployment_id}"
    for summary in client.api.containers(all=True, filters={"label": label}):
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_container(summary["Id"], v=True, force=True)
    for volume in client.api.volumes(filters={"label": label}).get("Volumes") or []:
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_volume(volume["Name"], force=True)


@pytest.fixture
def foreign_volumes(docker_client: docker.DockerClient) -> Iterator[list[str]]:
    """Names of unlabelled volumes a test creates; removed at teardown."""
    names: list[str] = []
    yield names
    for name in names:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.api.remove_volume(name, force=True)


@pytest.fixture
def store(docker_client: docker.DockerClient, deployment_id: str) -> Iterator[DockerVolumeStore]:
    """A store with its own SDK client (created lazily, as in the services)."""
    volume_store = DockerVolumeStore(deployment_id)
    yield volume_store
    volume_store.close()
    remove_deployment(docker_client, deployment_id)


StartPod = Callable[..., docker.models.containers.Container]


@pytest.fixture
def start_pod(docker_client: docker.DockerClient, deployment_id: str) -> StartPod:
    """Starts a pods-http container of this deployment with the given MountSpecs mounted
    (as the runtime would), optionally running `script` with sh instead of the web server."""

    def start(
        *mounts: MountSpec, pod_id: str = "web1", script: str | None = None
    ) -> docker.models.containers.Container:
        return docker_client.containers.run(
            IMAGE,
            command=["sh", "-c", script] if script is not None else None,
            mounts=[docker_mount(mount) for mount in mounts],
            labels={LABEL_DEPLOYMENT: deployment_id, LABEL_TENANT: "dev", LABEL_POD: pod_id},
            name=f"pods-{deployment_id}-dev-{pod_id}",
            init=True,
            network_mode="none",
            detach=True,
        )

    return start
