"""Ports for the servers tests start, leased so that no other test process gets the same one.

Used by the end-to-end harness (the stack's ports), the gateway and messaging
integration tests, and bench/. The old way, bind(("127.0.0.1", 0)) then close, raced: the
kernel hands a released port out again to the next bind(0) or outgoing connect() of any
process on the machine, and docker-proxy takes published ports from the same ephemeral range,
so a server started a moment later could find "its" port taken.

Here a port comes from outside the kernel's ephemeral range
(/proc/sys/net/ipv4/ip_local_port_range), where neither the kernel nor Docker hand ports out,
and is leased with an exclusive flock on a file in a shared directory of the temp dir: every
test process on the machine (each helper's, each pytest run's) skips ports another one holds.
The lease lasts until `release_port` or the end of the process (the kernel drops the lock
with the process, even when it is killed). A port is leased only if it can be bound right
now on 0.0.0.0 and on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import socket
import tempfile
from pathlib import Path

LOCK_DIR = Path(tempfile.gettempdir()) / "pods-test-ports"
LOWEST = 10000  # below: well-known services of this machine (5432, 4222, 8080, 8443, ...)
_held: dict[int, int] = {}  # leased port -> the file descriptor holding its lock


def ephemeral_range() -> tuple[int, int]:
    """The ports the kernel picks from for bind(0) and outgoing connections."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def candidate_ports() -> list[int]:
    """Every port outside the ephemeral range, from LOWEST up, in a random order."""
    low, high = ephemeral_range()
    ports = [p for p in range(LOWEST, 65536) if not low <= p <= high]
    random.shuffle(ports)
    return ports


def _bindable(port: int) -> bool:
    for host in ("0.0.0.0", "127.0.0.1"):  # a probe, closed at once
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                return False
    return True


def _lock(port: int) -> int | None:
    """The descriptor holding `port`'s lock, or None if another lease holds it."""
    LOCK_DIR.mkdir(mode=0o777, exist_ok=True)
    fd = os.open(LOCK_DIR / f"{port}.lock", os.O_CREAT | os.O_RDWR, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def reserve_port() -> int:
    """A port leased to this process until `release_port` (or its end), free right now."""
    for port in candidate_ports():
        if port in _held:
            continue
        fd = _lock(port)
        if fd is None:
            continue
        if _bindable(port):
            _held[port] = fd
            return port
        os.close(fd)
    raise RuntimeError("no free port outside the ephemeral range")


def reserve_ports(count: int) -> list[int]:
    """`count` distinct leased ports."""
    return [reserve_port() for _ in range(count)]


def release_port(port: int) -> None:
    """Ends the lease of `port` (the server using it should be gone)."""
    fd = _held.pop(port, None)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
