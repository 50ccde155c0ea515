"""The threads behind DockerRuntime's two long-lived streams: the engine's event stream
(EventPump, a daemon thread feeding the event loop) and one command run in a container
(ExecSession: bounded output, the exec's ids, and the kill of what it started, found through
/proc by proc_tree).

Called by services/spawner/platforms/docker/runtime.py only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors
import docker.types

from services.common.outcomes import TemporaryError
from services.common.runtime.types import (
    ExecResult,
)
from services.spawner.platforms.docker import proc_tree

EXEC_START_WAIT = 5.0  # seconds to wait for a just-started exec to report its pid

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _StreamEnd:
    reason: str


class EventPump:
    """Reads the SDK's blocking event stream in a daemon thread and hands items to asyncio.

    A dedicated thread rather than asyncio.to_thread: the read never ends, and would hold a
    worker of the default executor (and block interpreter exit) for the runtime's life."""

    def __init__(self, stream: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._stream = stream
        self._loop = loop
        self._queue: asyncio.Queue[Mapping[str, Any] | _StreamEnd] = asyncio.Queue()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="docker-events", daemon=True)

    def start(self) -> None:
        self._thread.start()

    async def next(self) -> Mapping[str, Any]:
        """The next decoded event; TemporaryError once the engine ended the stream."""
        item = await self._queue.get()
        if isinstance(item, _StreamEnd):
            raise TemporaryError(f"docker event stream ended: {item.reason}", delay=5.0)
        return item

    def close(self) -> None:
        """Closes the stream, which ends the reading thread."""
        self._closing.set()
        with contextlib.suppress(Exception):  # best effort: the engine may be gone already
            self._stream.close()

    def _run(self) -> None:
        reason = "the engine closed it"
        try:
            for item in self._stream:
                if self._closing.is_set():
                    return
                self._deliver(item)
        except Exception as exc:  # any failure ends the stream, reported below
            reason = f"{type(exc).__name__}: {exc}"
        if not self._closing.is_set():
            self._deliver(_StreamEnd(reason))

    def _deliver(self, item: Mapping[str, Any] | _StreamEnd) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self._closing.set()


# --- exec plumbing -----------------------------------------------------------------------


class ExecSession:
    """One command's state, shared by its exec thread, the kill thread and the event loop."""

    def __init__(self, limit_bytes: int) -> None:
        self._limit = limit_bytes
        self._lock = threading.Lock()
        self._cancelled = False
        self._container_id = ""
        self._exec_id = ""
        self._stream: Any = None
        self._out = b""
        self._err = b""

    def started(self, container_id: str, exec_id: str, api: Any) -> Any | None:
        """Starts the exec unless the command was cancelled first; its output stream."""
        with self._lock:
            if self._cancelled:
                return None
            self._container_id, self._exec_id = container_id, exec_id
            self._stream = api.exec_start(exec_id, stream=True, demux=True)
            return self._stream

    def pump(self, stream: Any) -> None:
        """Reads the output until it ends, keeping the last limit_bytes of each stream."""
        for out, err in stream:
            with self._lock:
                self._out = (self._out + (out or b""))[-self._limit :]
                self._err = (self._err + (err or b""))[-self._limit :]

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True

    def ids(self) -> tuple[str, str]:
        """(container id, exec id); empty strings when the exec never started."""
        with self._lock:
            return self._container_id, self._exec_id

    def close_output(self) -> None:
        with self._lock:
            if self._stream is not None:
                with contextlib.suppress(Exception):
                    self._stream.close()

    def result(self, exit_code: int | None, *, timed_out: bool) -> ExecResult:
        with self._lock:
            return ExecResult(
                exit_code=None if timed_out else exit_code,
                stdout=self._out.decode(errors="replace"),
                stderr=self._err.decode(errors="replace"),
                timed_out=timed_out,
            )


def running_pid(api: Any, exec_id: str) -> int | None:
    """The exec's host pid once it runs; None when it has ended (or never reports one)."""
    deadline = time.monotonic() + EXEC_START_WAIT
    while True:
        info = api.exec_inspect(exec_id)
        if info.get("Running") and info.get("Pid"):
            return int(info["Pid"])
        if info.get("ExitCode") is not None or time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def kill_inside(api: Any, container_id: str, pids: list[int]) -> bool:
    """Runs `kill -KILL <pids>` as root in the container; True when it succeeded."""
    try:
        cmd = ["kill", "-KILL", *map(str, pids)]
        kill_id = api.exec_create(container_id, cmd=cmd, stdout=True, stderr=True, user="0")["Id"]
        api.exec_start(kill_id)
        return bool(api.exec_inspect(kill_id).get("ExitCode") == 0)
    except docker.errors.DockerException:
        return False


def kill_exec(api: Any, session: ExecSession) -> None:
    """Docker has no call to stop an exec. Kills its process and the process's children
    with `kill` run as root inside the container by the engine, which works for a spawner
    that is not root; when that fails (no `kill` in the image), signals the host pids
    directly (works for a root spawner). Called by DockerRuntime on its kill threads."""
    container_id, exec_id = session.ids()
    if not exec_id:
        return
    host_pid = running_pid(api, exec_id)
    if host_pid is None:
        return
    if not proc_tree.sees_host_pids():
        log.warning("cannot kill exec %s: the spawner does not see the host's pids", exec_id)
        return
    host_pids = proc_tree.descendants(host_pid) or [host_pid]
    inside = [p for p in map(proc_tree.namespace_pid, host_pids) if p is not None]
    if inside and kill_inside(api, container_id, inside):
        return
    try:
        for pid in host_pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    except PermissionError:
        log.warning("could not kill exec %s (pid %d) in %s", exec_id, host_pid, container_id)
