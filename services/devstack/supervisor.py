"""Keeps child processes running: starts them, restarts one that exits (with capped backoff,
which starts over once a child has run for STABLE_AFTER seconds),
and stops them all in reverse order. Each child's pid is written to <data_dir>/pids/NAME.pid
so that operators (and the crash tests) can find it. A child may get environment variables of
its own over the shared ones (CHILD_ENV, read by services/devstack/__main__.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from services.common.pid_files import write_pid_file

log = logging.getLogger(__name__)
# A JSON object of per-process environment overrides, e.g. {"health": {"DOCKER_HOST": ...}}
# (the end-to-end tests use it to show that health needs no access to the runtime).
CHILD_ENV = "PODS_DEVSTACK_CHILD_ENV"
STABLE_AFTER = 10.0  # seconds of running after which the restart backoff starts over


@dataclass
class Child:
    """A supervised process."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)  # over the supervisor's environment
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

    def python_module(self, name: str, module: str, env: Mapping[str, str] | None = None) -> Child:
        child = Child(name=name, argv=[sys.executable, "-m", module], env=dict(env or {}))
        self._children.append(child)
        return child

    async def start(self, child: Child) -> None:
        await self._spawn(child)
        child.task = asyncio.create_task(self._keep_running(child))

    async def _spawn(self, child: Child) -> None:
        child.process = await asyncio.create_subprocess_exec(
            *child.argv, env={**self._env, **child.env}, start_new_session=True
        )
        write_pid_file(self._pid_dir / f"{child.name}.pid", child.process.pid)
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


def child_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The per-process overrides CHILD_ENV holds, by process name; {} when it is not set."""
    raw = environ.get(CHILD_ENV, "")
    if not raw:
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ValueError(f"{CHILD_ENV} must be a JSON object of objects")
    return {name: {str(k): str(v) for k, v in env.items()} for name, env in value.items()}
