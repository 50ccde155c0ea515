"""Fixtures for DockerRuntime against the real Docker engine of this machine.

Every test gets a unique deployment id (`t<hex>`), and teardown force-removes every container
and network labelled with it plus any unlabelled containers a test registered by name, so tests never
touch other people's containers on the shared engine.

Image: `pods-http:latest` (built by scripts/build-images: busybox httpd on port 5000) when it
exists; otherwise FALLBACK_IMAGE, imported here from a tiny rootfs holding the host's static
/bin/busybox (Debian's busybox-static) and a page to serve. Tests that run shell commands use
`/bin/busybox` as the entrypoint, which both images provide.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import tarfile
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from services.common.runtime.types import LABEL_DEPLOYMENT
from services.spawner.platforms.docker.runtime import DockerRuntime

PREFERRED_IMAGE = "pods-http:latest"
FALLBACK_IMAGE = "pods-runtime-test-busybox:latest"
HOST_BUSYBOX = Path("/bin/busybox")
FALLBACK_CMD = '["/bin/busybox", "httpd", "-f", "-p", "5000", "-h", "/www"]'


def _add_file(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def _fallback_rootfs() -> bytes:
    """A tar of /bin/busybox and /www/index.html: enough to serve HTTP and run `sh`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        _add_file(tar, "bin/busybox", HOST_BUSYBOX.read_bytes(), 0o755)
        _add_file(tar, "www/index.html", b"hello from pods-runtime-test\n")
    return buffer.getvalue()


def _import_fallback_image(client: docker.DockerClient) -> None:
    repository, tag = FALLBACK_IMAGE.split(":")
    client.api.import_image_from_data(
        _fallback_rootfs(), repository=repository, tag=tag, changes=[f"CMD {FALLBACK_CMD}"]
    )


def _has_image(client: docker.DockerClient, name: str) -> bool:
    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine: {exc}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def test_image(docker_client: docker.DockerClient) -> str:
    """An image whose default command serves HTTP on 5000 and which has /bin/busybox."""
    if _has_image(docker_client, PREFERRED_IMAGE):
        return PREFERRED_IMAGE
    if not _has_image(docker_client, FALLBACK_IMAGE):
        _import_fallback_image(docker_client)
    return FALLBACK_IMAGE


@pytest.fixture
def deployment_id() -> str:
    return f"t{secrets.token_hex(4)}"


@pytest.fixture
def foreign_names(docker_client: docker.DockerClient) -> Iterator[list[str]]:
    """Names of unlabelled containers a test creates; removed at teardown."""
    names: list[str] = []
    yield names
    for name in names:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.api.remove_container(name, v=True, force=True)


def remove_deployment(client: docker.DockerClient, deployment_id: str) -> None:
    """Force-removes every container, then every network, labelled with `deployment_id`."""
    label = f"{LABEL_DEPLOYMENT}={deployment_id}"
    for summary in client.api.containers(all=True, filters={"label": label}):
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_container(summary["Id"], v=True, force=True)
    for network in client.api.networks(filters={"label": label}):
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_network(network["Id"])


def runtime_in(
    docker_client: docker.DockerClient, deployment_id: str, network_mode: str = "auto"
) -> Iterator[DockerRuntime]:
    """A fixture's runtime in `network_mode`, closed and its deployment removed after."""
    runtime = DockerRuntime(deployment_id, network_mode=network_mode)
    yield runtime
    runtime.close()
    remove_deployment(docker_client, deployment_id)


@pytest.fixture
def runtime(docker_client: docker.DockerClient, deployment_id: str) -> Iterator[DockerRuntime]:
    """A runtime with its own SDK client (created lazily, as in the services)."""
    yield from runtime_in(docker_client, deployment_id)
