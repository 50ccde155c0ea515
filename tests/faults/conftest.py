"""Fault-suite fixtures: a private PostgreSQL cluster (never the machine's shared one) and a
small tmpfs that a test may fill up or remount read-only."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import free_port
from tests.faults import private_docker, private_postgres
from tests.faults.private_docker import PrivateDockerd
from tests.faults.private_postgres import PrivatePostgres


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    reason = private_postgres.available()
    if reason:
        pytest.skip(f"no private PostgreSQL cluster can be made here: {reason}")
    cluster = PrivatePostgres.create(free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()


def mount_tmpfs(size: str) -> Path:
    """A fresh tmpfs of `size` (e.g. "64m") on a new directory; skips without root."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    point = Path(tempfile.mkdtemp(prefix="pods-faults-tmpfs-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], check=True)
    return point


@pytest.fixture
def small_tmpfs() -> Iterator[Path]:
    """A 4 MiB tmpfs, unmounted afterwards (mount needs root; skipped without it)."""
    point = mount_tmpfs("4m")
    try:
        yield point
    finally:
        unmount(point)


def unmount(point: Path) -> None:
    subprocess.run(["umount", "-l", str(point)], check=False)
    shutil.rmtree(point, ignore_errors=True)


def remount(point: Path, mode: str) -> None:
    """Remounts the tmpfs at `point` read-only ("ro") or read-write ("rw")."""
    subprocess.run(["mount", "-o", f"remount,{mode}", str(point)], check=True)


@pytest.fixture
def private_dockerd() -> Iterator[PrivateDockerd]:
    """A private Docker engine (own socket, roots and bridge), not started yet."""
    reason = private_docker.available()
    if reason:
        pytest.skip(f"no private Docker engine can be started here: {reason}")
    engine = PrivateDockerd.create()
    try:
        yield engine
    finally:
        engine.destroy()
