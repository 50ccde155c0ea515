"""A command run with DockerRuntime.exec is really killed inside the container, at its timeout
and when its caller is cancelled, by a spawner that is NOT root (issue 9): the runtime runs in
a child process as uid 65534 with only the docker group, against the real engine, while the
command in the container runs as root. Signalling the host pid cannot work from there."""

from __future__ import annotations

import grp
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from services.common.runtime.types import ContainerSpec, PodKey
from services.spawner.platforms.docker.runtime import DockerRuntime

from .conftest import PREFERRED_IMAGE

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[3]
KEY = PodKey("dev", "killme")
NOBODY = 65534

# Run by the unprivileged child: one exec that times out, one whose caller is cancelled.
CHILD = """
import asyncio, json, os, sys, time
from services.spawner.platforms.docker.runtime import DockerRuntime
from services.common.runtime.types import PodKey

async def main() -> None:
    runtime = DockerRuntime(sys.argv[1])
    key = PodKey("dev", "killme")
    started = time.monotonic()
    result = await runtime.exec(key, ["sleep", "3601"], 1.0, 1000)
    timed = time.monotonic() - started
    task = asyncio.create_task(runtime.exec(key, ["sleep", "3602"], 600.0, 1000))
    await asyncio.sleep(1.5)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        cancelled = True
    else:
        cancelled = False
    runtime.close()
    print(json.dumps({"timed_out": result.timed_out, "seconds": timed, "cancelled": cancelled}))
    sys.stdout.flush()
    os._exit(0)  # not waiting for threads: what matters is what runs in the container

asyncio.run(main())
"""


def running(container: object, command: str) -> int:
    top = container.top()  # type: ignore[attr-defined]
    column = top["Titles"].index("CMD")
    return sum(1 for row in top["Processes"] or [] if row[column] == command)


def gone_within(container: object, command: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if running(container, command) == 0:
            return True
        time.sleep(0.1)
    return False


async def test_a_non_root_spawner_kills_timed_out_and_cancelled_commands(
    runtime: DockerRuntime, docker_client: docker.DockerClient, test_image: str
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to start the unprivileged child")
    if test_image != PREFERRED_IMAGE:
        pytest.skip(f"needs {PREFERRED_IMAGE}, whose PATH has busybox's `kill`")
    spec = ContainerSpec(
        key=KEY,
        image=test_image,
        command=("/bin/busybox",),
        arguments=("sleep", "3600"),
        cpu_limit_millis=250,
        mem_limit_mib=64,
    )
    result = await runtime.ensure(spec)
    container = docker_client.containers.get(result.state.name)
    docker_gid = grp.getgrnam("docker").gr_gid
    child = subprocess.run(
        [
            "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            f"--groups={docker_gid}",
            "--inh-caps=-all",
            "--bounding-set=-all",
            sys.executable,
            "-c",
            CHILD,
            runtime.deployment_id,
        ],
        cwd=REPO,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "HOME": "/nonexistent"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert report["timed_out"] is True and report["seconds"] < 10
    assert report["cancelled"] is True
    assert gone_within(container, "sleep 3601", 10), "the timed-out command still runs"
    assert gone_within(container, "sleep 3602", 10), "the cancelled command still runs"
