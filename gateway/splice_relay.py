"""Copies a connection both ways inside the kernel (`os.splice` through a pipe), driven by the
event loop's readiness callbacks: no byte of the stream enters Python.

Used by the STARTTLS router's hand-off (gateway/tls_handoff.py) once it has answered a classic
client's SSLRequest and read the SNI of its ClientHello: from then on Envoy terminates the TLS
session and this relay only moves its records. Each direction moves at most CHUNK bytes per
step and stops reading while its destination does not take them (backpressure); a source's
end of stream becomes a half-close (`shutdown(SHUT_WR)`) of the destination, and the relay
ends when both directions have ended, when either fails, after `half_close_grace` seconds
with only one direction open, or after `idle_timeout` seconds without a byte either way.
Linux only (splice(2)).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import socket

CHUNK = 64 * 1024
_SPLICE_FLAGS = os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


class _Direction:
    """One direction: src -> pipe -> dst, `moved` bytes so far, `outcome` once it ends."""

    def __init__(self, relay: SpliceRelay, src: socket.socket, dst: socket.socket, name: str):
        self._relay = relay
        self._loop = relay.loop
        self.src, self.dst, self.name = src, dst, name
        self.read_end, self.write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        with contextlib.suppress(OSError):
            fcntl.fcntl(self.write_end, _F_SETPIPE_SZ, CHUNK)
        self.pending = 0  # bytes in the pipe, not yet written to dst
        self.moved = 0
        self.outcome: str | None = None
        self._waiting_for_dst = False

    def start(self) -> None:
        self._loop.add_reader(self.src.fileno(), self._readable)

    def _readable(self) -> None:
        try:
            count = os.splice(self.src.fileno(), self.write_end, CHUNK, flags=_SPLICE_FLAGS)
        except BlockingIOError:
            return
        except OSError as exc:
            self._end(f"error reading {self.name}: {type(exc).__name__}")
            return
        if count == 0:
            with contextlib.suppress(OSError):
                self.dst.shutdown(socket.SHUT_WR)
            self._end("end of stream")
            return
        self.pending += count
        self._relay.touch()
        self._drain()

    def _drain(self) -> None:
        while self.pending:
            try:
                count = os.splice(
                    self.read_end, self.dst.fileno(), self.pending, flags=_SPLICE_FLAGS
                )
            except BlockingIOError:
                if not self._waiting_for_dst:  # stop reading until dst takes the bytes
                    self._waiting_for_dst = True
                    self._loop.remove_reader(self.src.fileno())
                    self._loop.add_writer(self.dst.fileno(), self._writable)
                return
            except OSError as exc:
                self._end(f"error writing {self.name}: {type(exc).__name__}")
                return
            self.pending -= count
            self.moved += count
        if self._waiting_for_dst:
            self._waiting_for_dst = False
            self._loop.remove_writer(self.dst.fileno())
            self._loop.add_reader(self.src.fileno(), self._readable)

    def _writable(self) -> None:
        self._drain()

    def _end(self, outcome: str) -> None:
        if self.outcome is None:
            self.outcome = outcome
            self.stop()
            self._relay.direction_ended()

    def stop(self) -> None:
        """Unregisters the callbacks (idempotent)."""
        self._loop.remove_reader(self.src.fileno())
        if self._waiting_for_dst:
            self._waiting_for_dst = False
            self._loop.remove_writer(self.dst.fileno())

    def close_pipe(self) -> None:
        for fd in (self.read_end, self.write_end):
            with contextlib.suppress(OSError):
                os.close(fd)


class SpliceRelay:
    """Relays between `client` and `server` (connected, non-blocking sockets it does not
    close) until `run` returns its outcome."""

    def __init__(
        self,
        client: socket.socket,
        server: socket.socket,
        *,
        idle_timeout: float | None,
        half_close_grace: float,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self._idle_timeout = idle_timeout
        self._half_close_grace = half_close_grace
        self._last_activity = self.loop.time()
        self._changed = asyncio.Event()
        self.inbound = _Direction(self, client, server, "client")
        self.outbound = _Direction(self, server, client, "server")

    def touch(self) -> None:
        self._last_activity = self.loop.time()

    def direction_ended(self) -> None:
        self._changed.set()

    async def run(self) -> str:
        """Relays until the end; returns the outcome to log (never raises but on cancel)."""
        directions = (self.inbound, self.outbound)
        try:
            for direction in directions:
                direction.start()
            half_closed_at: float | None = None
            while True:
                ended = [d for d in directions if d.outcome is not None]
                errors = [d.outcome for d in ended if d.outcome and d.outcome.startswith("error")]
                if errors:
                    return errors[0]
                if len(ended) == 2:
                    return "closed by client" if ended[0] is self.inbound else "closed by pod"
                now = self.loop.time()
                if ended and half_closed_at is None:
                    half_closed_at = now
                deadlines: list[float] = []
                if half_closed_at is not None:
                    if ended[0] is self.outbound:
                        return "closed by pod"  # the pod is done: nothing more to wait for
                    deadlines.append(half_closed_at + self._half_close_grace)
                if self._idle_timeout is not None:
                    deadlines.append(self._last_activity + self._idle_timeout)
                if deadlines and min(deadlines) <= now:
                    if (
                        half_closed_at is not None
                        and now >= half_closed_at + self._half_close_grace
                    ):
                        return "closed by client (pod did not finish)"
                    return "idle timeout"
                self._changed.clear()
                timeout = min(deadlines) - now if deadlines else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout)
        finally:
            for direction in directions:
                direction.stop()
                direction.close_pipe()
