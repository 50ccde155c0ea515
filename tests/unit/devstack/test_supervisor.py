"""The supervisor restarts a child that dies, with a backoff that grows while it keeps dying
and starts over once it has run for STABLE_AFTER seconds. Real child processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from services.devstack import supervisor as supervisor_module
from services.devstack.supervisor import CHILD_ENV, Supervisor, child_overrides


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


async def test_a_child_gets_its_own_environment_over_the_shared_one(tmp_path: Path) -> None:
    overrides = child_overrides(
        {CHILD_ENV: json.dumps({"health": {"DOCKER_HOST": "unix:///nowhere.sock"}})}
    )
    supervisor = Supervisor(tmp_path / "pids", {**os.environ, "DOCKER_HOST": "unix:///real.sock"})
    script = "import os, sys; open(sys.argv[1], 'w').write(os.environ['DOCKER_HOST'])"
    for name in ("health", "spawner"):
        child = supervisor.python_module(name, "unused", overrides.get(name))
        child.argv = [child.argv[0], "-c", script, str(tmp_path / name)]
        await supervisor.start(child)
    try:
        async with asyncio.timeout(20):
            while not all((tmp_path / n).exists() for n in ("health", "spawner")):
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.1)  # written whole
        assert (tmp_path / "health").read_text() == "unix:///nowhere.sock"
        assert (tmp_path / "spawner").read_text() == "unix:///real.sock"
    finally:
        await supervisor.stop_all(grace=2)
    assert child_overrides({}) == {}
    with pytest.raises(ValueError, match="JSON object of objects"):
        child_overrides({CHILD_ENV: '{"health": "x"}'})
