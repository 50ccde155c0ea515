"""Readiness probes: does the pod's port answer its protocol? A TCP connect alone proves
nothing here, because docker-proxy accepts connections on a published port before the
service inside listens. Called by watcher.py with the loopback port Docker published, on the
schedule `probe_delays` gives: a fixed short interval while most services come up, then a
growing one, so that a slow starter is not probed hundreds of times.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

SSL_REQUEST = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")
BOLT_HANDSHAKE = bytes.fromhex("6060b017") + bytes.fromhex("00000105000000040000000300000000")


def probe_delays(interval: float, fast_window: float, longest: float) -> Iterator[float]:
    """The delays before each probe of a starting pod, endless: `interval` seconds apart
    until `fast_window` seconds have passed, then half as long again each time up to
    `longest` (never shorter than `interval`)."""
    fast = round(fast_window / interval) if interval > 0 else 0
    for _ in range(fast):
        yield interval
    delay = interval
    while True:
        delay = max(min(delay * 1.5, longest), interval)
        yield delay


async def probe(protocol: str, host: str, port: int, timeout: float = 1.0) -> bool:
    """True when the service on host:port answers `protocol` (http, postgres, tcp)."""
    try:
        return await asyncio.wait_for(_PROBES.get(protocol, _tcp)(host, port), timeout)
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        return False


async def _http(host: str, port: int) -> bool:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(b"HEAD / HTTP/1.0\r\nHost: probe\r\nUser-Agent: pods-health\r\n\r\n")
        await writer.drain()
        line = await reader.readline()
        return line.startswith(b"HTTP/")
    finally:
        await _close(writer)


async def _postgres(host: str, port: int) -> bool:
    """PostgreSQL answers an SSLRequest with one byte, S or N, once it accepts connections."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(SSL_REQUEST)
        await writer.drain()
        return await reader.readexactly(1) in (b"S", b"N")
    finally:
        await _close(writer)


async def _tcp(host: str, port: int) -> bool:
    """Bolt servers answer the handshake with a version; other TCP services just keep the
    connection open. docker-proxy closes it at once when nothing listens inside."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(BOLT_HANDSHAKE)
        await writer.drain()
        try:
            data = await asyncio.wait_for(reader.read(4), 0.3)
        except TimeoutError:
            return True  # still open and silent: something is listening
        return bool(data)
    finally:
        await _close(writer)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


_PROBES = {"http": _http, "postgres": _postgres, "tcp": _tcp}
