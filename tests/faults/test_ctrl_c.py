"""Ctrl-C of the launcher does not reach the Docker engine it started.

The terminal's Ctrl-C is a SIGINT to the whole foreground process group. scripts/setup starts
the engine through scripts/start-docker; this test does the same for a private engine from a
launcher in its own process group, sends SIGINT to that group, and checks that the engine is
in another session and group, and that it and its container are still up afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.e2e.harness import REPO, eventually
from tests.faults.private_docker import PrivateDockerd

pytestmark = [pytest.mark.faults, pytest.mark.docker]


def default_sigint() -> None:
    """In the launcher before it runs: SIGINT kills it, as in a terminal's foreground."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def is_sleeping(pid: int) -> bool:
    """Whether the process runs `sleep` (the launcher after its `exec sleep 600`)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().split(b"\0")[0] == b"sleep"
    except FileNotFoundError:
        return False


def test_sigint_to_the_launchers_group_leaves_the_engine_and_its_containers_running(
    private_dockerd: PrivateDockerd,
) -> None:
    engine = private_dockerd
    start = " ".join(["bash", str(REPO / "scripts" / "start-docker"), *engine.dockerd_args()])
    launcher = subprocess.Popen(
        ["bash", "-c", f"{start} && exec sleep 600"],
        env=engine.env(),
        start_new_session=True,  # the launcher's own group, as a terminal gives `scripts/up`
        # and a terminal's SIGINT disposition: a suite started in the background by a shell
        # without job control (`.ci/run &` in a script) ignores SIGINT, and so would `sleep`.
        preexec_fn=default_sigint,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        eventually(engine.answers, 90, "the private engine to answer")
        # start-docker has returned and the launcher waits in `sleep`, as `scripts/up` runs
        # its stack once the engine is up.
        eventually(lambda: is_sleeping(launcher.pid), 90, "start-docker to return")
        pid = eventually(engine.pid, 10, "the engine's pid file")
        engine.load_image("pods-http:latest")
        client = engine.client()
        container = client.containers.run("pods-http:latest", detach=True, init=True)

        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        assert launcher.wait(timeout=30) != 0  # the launcher itself got it

        assert os.getpgid(pid) != launcher.pid, "dockerd is in the launcher's process group"
        assert os.getsid(pid) != launcher.pid, "dockerd is in the launcher's session"
        # dockerd handles SIGINT by shutting down within a second or two; it must not have.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            assert engine.answers(), "the engine stopped after the launcher's Ctrl-C"
            container.reload()
            assert container.status == "running"
            time.sleep(0.2)
        assert engine.pid() == pid
        client.close()
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
