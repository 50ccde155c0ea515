"""tests/ports.py: leased ports never come from where the kernel and Docker hand ports out,
and a port leased by one process is not leased to another until it is released."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.ports import ephemeral_range, release_port, reserve_port, reserve_ports

REPO = Path(__file__).resolve().parents[2]
TRY_LOCK = "import sys; from tests.ports import _lock; sys.exit(0 if _lock({port}) else 3)"


def other_process_can_lease(port: int) -> bool:
    result = subprocess.run(
        [sys.executable, "-c", TRY_LOCK.format(port=port)], cwd=REPO, check=False, timeout=30
    )
    assert result.returncode in (0, 3), result
    return result.returncode == 0


def test_ports_lie_outside_the_ephemeral_range() -> None:
    low, high = ephemeral_range()
    ports = reserve_ports(20)
    try:
        assert len(set(ports)) == 20
        assert not [p for p in ports if low <= p <= high], (low, high, ports)
    finally:
        for port in ports:
            release_port(port)


def test_a_leased_port_is_refused_to_other_processes_until_released() -> None:
    port = reserve_port()
    try:
        assert not other_process_can_lease(port)
    finally:
        release_port(port)
    assert other_process_can_lease(port)


def test_a_leased_port_can_be_bound() -> None:
    port = reserve_port()
    try:
        with socket.socket() as server:
            server.bind(("127.0.0.1", port))
            server.listen()
    finally:
        release_port(port)
