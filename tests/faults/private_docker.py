"""A private Docker engine for the fault tests, so a test may stop and start an engine without
touching the machine's shared one: its own socket, data and exec roots, pid file, and its own
bridge (created with `ip link`, in an unused 172.x range, removed afterwards). It leaves
iptables alone (--iptables=false): published ports go through docker-proxy, which is enough for
127.0.0.1. Started through scripts/start-docker, exactly as scripts/setup starts the machine's
engine. Never `--bridge=none`: dockerd then deletes the host's `docker0`, which the machine's
own engine uses (and so does a restart without live-restore when default address pools are
set)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker

REPO = Path(__file__).resolve().parents[2]


def available() -> str | None:
    """None when a private engine can be started here, else the reason it cannot."""
    for tool in ("dockerd", "ip", "setsid", "docker"):
        if shutil.which(tool) is None:
            return f"{tool} is missing"
    if os.geteuid() != 0:
        return "a Docker engine needs root"
    return None


def _used_subnets() -> set[int]:
    out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True)
    used = set()
    for line in out.stdout.splitlines():
        address = line.split()[3]
        if address.startswith("172."):
            used.add(int(address.split(".")[1]))
    return used


@dataclass
class PrivateDockerd:
    """One engine: `start()`, `stop()`, `host` (a DOCKER_HOST value)."""

    root: Path
    bridge: str
    subnet: str
    live_restore: bool = True
    extra: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, live_restore: bool = True) -> PrivateDockerd:
        root = Path(tempfile.mkdtemp(prefix="pdk-", dir="/tmp"))  # a short socket path
        bridge = f"pdbr{uuid.uuid4().hex[:8]}"
        free = [n for n in range(24, 31) if n not in _used_subnets()]  # 172.24-30, not docker0
        if not free:
            raise RuntimeError("no unused 172.24-30.x range for a private bridge")
        subnet = f"172.{free[-1]}.{uuid.uuid4().int % 250 + 1}.1/24"
        subprocess.run(["ip", "link", "add", "name", bridge, "type", "bridge"], check=True)
        subprocess.run(["ip", "addr", "add", subnet, "dev", bridge], check=True)
        subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
        return cls(root, bridge, subnet, live_restore)

    @property
    def host(self) -> str:
        return f"unix://{self.root}/docker.sock"

    @property
    def pidfile(self) -> Path:
        return self.root / "docker.pid"

    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.host, "PODS_DOCKERD_LOG": str(self.log)}

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    def dockerd_args(self) -> list[str]:
        args = [
            f"--data-root={self.root}/data",
            f"--exec-root={self.root}/exec",
            f"--pidfile={self.pidfile}",
            f"--bridge={self.bridge}",
            "--iptables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            "--storage-driver=overlay2",
            *self.extra,
        ]
        if not self.live_restore:
            args.append("--live-restore=false")
        return args

    def start(self, **popen: Any) -> subprocess.CompletedProcess[bytes]:
        """Runs scripts/start-docker for this engine and waits for it (it checks `docker info`)."""
        return subprocess.run(
            ["bash", str(REPO / "scripts" / "start-docker"), *self.dockerd_args()],
            env=self.env(),
            capture_output=True,
            timeout=90,
            check=True,
            **popen,
        )

    def pid(self) -> int | None:
        with contextlib.suppress(FileNotFoundError, ValueError):
            pid = int(self.pidfile.read_text())
            os.kill(pid, 0)
            return pid
        return None

    def answers(self) -> bool:
        try:
            client = docker.DockerClient(base_url=self.host, timeout=3)
        except docker.errors.DockerException:
            return False
        try:
            return bool(client.ping())
        except (docker.errors.DockerException, OSError):
            return False
        finally:
            client.close()

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.host, timeout=60)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM to the engine, then waits until it has exited."""
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)

    def load_image(self, image: str) -> None:
        """Copies `image` from the machine's engine into this one (no registry here)."""
        save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE, env={
            k: v for k, v in os.environ.items() if k != "DOCKER_HOST"})  # fmt: skip
        subprocess.run(["docker", "load"], stdin=save.stdout, env=self.env(), check=True,
                       capture_output=True)  # fmt: skip
        assert save.wait() == 0

    def destroy(self) -> None:
        """Removes every container of this engine, stops it, and removes its bridge and files."""
        if self.pid() is None and self.answers() is False:
            with contextlib.suppress(subprocess.CalledProcessError):
                self.start()
        with contextlib.suppress(docker.errors.DockerException, OSError):
            client = self.client()
            for container in client.containers.list(all=True):
                container.remove(force=True)
            client.close()
        self.stop()
        # containerd-shims of a live-restored engine outlive it: end those of our exec-root
        _kill_shims(self.root)
        for point in _mounts_under(self.root):
            subprocess.run(["umount", "-l", point], check=False, capture_output=True)
        subprocess.run(["ip", "link", "delete", self.bridge], check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _kill_shims(root: Path) -> None:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(root) in cmdline:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(proc.name), signal.SIGKILL)


def _mounts_under(root: Path) -> list[str]:
    """Mount points below `root` (netns and overlay mounts left by an engine), deepest first."""
    points = []
    for line in Path("/proc/mounts").read_text().splitlines():
        point = line.split()[1]
        if point.startswith(f"{root}/"):
            points.append(point)
    return sorted(points, key=len, reverse=True)
