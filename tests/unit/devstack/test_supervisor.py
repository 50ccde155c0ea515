"""The supervisor restarts a child that dies, with a backoff that grows while it keeps dying
and starts over once it has run for STABLE_AFTER seconds. Real child processes."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from services.devstack import supervisor as supervisor_module
from services.devstack.supervisor import Supervisor


async def _new_pid(pid_file: Path, old: int, timeout: float = 20) -> int:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        pid = int(pid_file.read_text())
        if pid != old:
            return pid
        await asyncio.sleep(0.02)
    raise AssertionError("the child was not restarted")


async def test_backoff_starts_over_after_a_child_ran_stably(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor_module, "STABLE_AFTER", 0.5)
    supervisor = Supervisor(tmp_path / "pids", dict(os.environ))
    child = supervisor.python_module("sleeper", "unused")
    child.argv = [child.argv[0], "-c", "import time; time.sleep(600)"]  # runs until killed
    await supervisor.start(child)
    pid_file = tmp_path / "pids" / "sleeper.pid"
    try:
        pid = int(pid_file.read_text())
        for expected in (1, 2, 3):  # quick deaths: the backoff grows
            os.kill(pid, signal.SIGKILL)
            pid = await _new_pid(pid_file, pid)
            assert child.restarts == expected
        await asyncio.sleep(0.6)  # it now runs longer than STABLE_AFTER
        os.kill(pid, signal.SIGKILL)
        pid = await _new_pid(pid_file, pid)
        assert child.restarts == 1, "the backoff did not start over"
    finally:
        await supervisor.stop_all(grace=2)
