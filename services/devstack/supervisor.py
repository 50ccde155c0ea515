"""Keeps child processes running: starts them, restarts one that exits (with capped backoff,
which starts over once a child has run for STABLE_AFTER seconds),
and stops them all in reverse order. Each child's pid is written to <data_dir>/pids/NAME.pid
so that operators (and the crash tests) can find it."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)
STABLE_AFTER = 10.0  # seconds of running after which the restart backoff starts over


@dataclass
class Child:
    """A supervised process."""

    name: str
    argv: list[str]
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    stopping: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class Supervisor:
    """Starts, restarts and stops children."""

    def __init__(self, pid_dir: Path, env: Mapping[str, str]) -> None:
        self._pid_dir = pid_dir
        self._env = dict(env)
        self._children: list[Child] = []
        pid_dir.mkdir(parents=True, exist_ok=True)

    def python_module(self, name: str, module: str) -> Child:
        child = Child(name=name, argv=[sys.executable, "-m", module])
        self._children.append(child)
        return child

    async def start(self, child: Child) -> None:
        await self._spawn(child)
        child.task = asyncio.create_task(self._keep_running(child))

    async def _spawn(self, child: Child) -> None:
        child.process = await asyncio.create_subprocess_exec(
            *child.argv, env=self._env, start_new_session=True
        )
        (self._pid_dir / f"{child.name}.pid").write_text(str(child.process.pid))
        log.info("started %s (pid %d)", child.name, child.process.pid)

    async def _keep_running(self, child: Child) -> None:
        while not child.stopping:
            assert child.process is not None
            started = time.monotonic()
            code = await child.process.wait()
            if child.stopping:
                return
            if time.monotonic() - started >= STABLE_AFTER:
                child.restarts = 0  # it had been running fine: a fresh failure, a short wait
            child.restarts += 1
            delay = min(0.5 * 2 ** min(child.restarts - 1, 6), 30.0)
            log.warning("%s exited with %s; restarting in %.1fs", child.name, code, delay)
            await asyncio.sleep(delay)
            if not child.stopping:
                await self._spawn(child)

    async def stop_all(self, grace: float = 10.0) -> None:
        for child in reversed(self._children):
            child.stopping = True
            process = child.process
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), grace)
                except TimeoutError:
                    process.kill()
                    await process.wait()
            if child.task is not None:
                child.task.cancel()
            pid_file = self._pid_dir / f"{child.name}.pid"
            if pid_file.exists():
                pid_file.unlink()
        log.info("all processes stopped")

    def environment(self) -> dict[str, str]:
        return dict(self._env)


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """Our environment plus `extra`, with the repository importable."""
    env = {**os.environ, **extra}
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env
