"""Least privilege end to end: only the spawner talks to the container runtime. While volume
files are created, uploaded, listed, downloaded and snapshotted through the real stack, the
API process never holds a connection to the Docker engine's socket (seen from the kernel:
`ss -x` pairs each socket accepted on /var/run/docker.sock with its client's inode, and
/proc/<pid>/fd lists the API's sockets); the spawner, which does the work, does. Health
observes pods through the spawner: its DOCKER_HOST names a socket that does not exist (in every
stack, tests/e2e/harness.py HEALTH_ENV), yet a pod becomes AVAILABLE and its logs are
captured, and health never connects to the engine."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from tapipy.tapis import Tapis

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import NO_ENGINE, Stack, eventually

pytestmark = [pytest.mark.docker, pytest.mark.stack]

DOCKER_SOCKET = "/var/run/docker.sock"
_SOCKET_FD = re.compile(r"socket:\[(\d+)\]")


def socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets process `pid` holds open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            match = _SOCKET_FD.fullmatch(os.readlink(fd))
        except OSError:  # closed meanwhile
            continue
        if match:
            inodes.add(int(match.group(1)))
    return inodes


def engine_clients() -> set[int]:
    """The inodes of the client ends of every connection to the engine's socket."""
    listing = subprocess.run(["ss", "-xn"], capture_output=True, text=True, check=True).stdout
    clients = set()
    for line in listing.splitlines():
        words = line.split()
        if DOCKER_SOCKET in words:
            at = words.index(DOCKER_SOCKET)
            peer = words[at + 3] if len(words) > at + 3 else ""
            if peer.isdigit() and peer != "0":
                clients.add(int(peer))
    return clients


class EngineWatch:
    """Samples, in a thread, which of the watched processes hold a connection to the engine."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self.seen: set[str] = set()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        clients = engine_clients()
        for name, pid in self._pids.items():
            if socket_inodes(pid) & clients:
                self.seen.add(name)
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.05)

    def __enter__(self) -> EngineWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.sample()


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")
@pytest.mark.skipif(not Path(DOCKER_SOCKET).exists(), reason=f"needs the engine on {DOCKER_SOCKET}")
def test_the_api_never_talks_to_the_engine_for_volume_files(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    t = Tapis(base_url=stack.url, username="testuser", password="testpass")
    t.get_tokens()
    volume = cleanup.volume(unique("lpvol"))
    snapshot = cleanup.snapshot(unique("lpsnap"))
    content = os.urandom(3 * 1024 * 1024 + 5)
    steps: list[Callable[[], object]] = [
        lambda: t.pods.create_volume(volume_id=volume, size_limit=16),
        lambda: t.pods.upload_to_volume(volume_id=volume, path="d/big.bin", file=content),
        lambda: t.pods.list_volume_files(volume_id=volume),
        lambda: t.pods.create_snapshot(
            snapshot_id=snapshot, source_volume_id=volume, source_volume_path="/"
        ),
        lambda: t.pods.list_snapshot_files(snapshot_id=snapshot),
    ]
    pids = {"api": stack.pid_of("api"), "spawner": stack.pid_of("spawner")}
    with EngineWatch(pids) as watch:
        for step in steps:
            step()
        assert t.pods.get_volume_contents(volume_id=volume, path="d/big.bin") == content
        snapshot_copy = t.pods.get_snapshot_contents(snapshot_id=snapshot, path="d/big.bin")
        assert snapshot_copy == content
    assert watch.samples > 1
    assert "spawner" in watch.seen, "the watch must see the process that does talk to Docker"
    assert "api" not in watch.seen, "the API process connected to the Docker engine"


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")
@pytest.mark.skipif(not Path(DOCKER_SOCKET).exists(), reason=f"needs the engine on {DOCKER_SOCKET}")
def test_health_observes_pods_without_access_to_the_engine(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    health = stack.pid_of("health")
    assert environment_of(health).get("DOCKER_HOST") == NO_ENGINE
    assert environment_of(stack.pid_of("spawner")).get("DOCKER_HOST") != NO_ENGINE
    t = Tapis(base_url=stack.url, username="testuser", password="testpass")
    t.get_tokens()
    pod = cleanup.pod(unique("lphealth"))
    with EngineWatch({"health": health, "spawner": stack.pid_of("spawner")}) as watch:
        t.pods.create_pod(pod_id=pod, image="pods-http:latest")
        eventually(lambda: t.pods.get_pod(pod_id=pod).status == "AVAILABLE", 60, f"{pod} AVAILABLE")
        (container,) = stack.containers(pod)
        eventually(  # pods-http prints its host name: the container's short id
            lambda: str(container.id)[:12] in t.pods.get_pod_logs(pod_id=pod).logs,
            30,
            "the pod's logs, captured by health",
        )
    assert stack.pid_of("health") == health, "health did not stay up"
    assert "spawner" in watch.seen, "the watch must see the process that does talk to Docker"
    assert "health" not in watch.seen, "the health process connected to the Docker engine"
