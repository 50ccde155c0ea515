"""Shared helpers for the bench/ scripts: makes the repo importable when a script is run as
`python bench/NAME.py`; percentiles, machine facts, a stack fixture and a REST client."""

from __future__ import annotations

import http.client
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import docker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root

from tests.e2e.harness import Stack, free_port, start_stack, stop_stack

os.environ.setdefault("PODS_PYTHON", sys.executable)  # the interpreter scripts/up runs

__all__ = [
    "RestClient",
    "Stack",
    "free_port",
    "gateway_port",
    "machine",
    "per_call",
    "percentile",
    "running_stack",
    "summary",
]


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100), linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def per_call(
    call: Callable[[], Awaitable[object]], calls: int, rounds: int
) -> tuple[float, float]:
    """Process CPU seconds and wall seconds per `call()`, the median of `rounds` rounds of
    `calls` calls each (by CPU), in this process."""
    results: list[tuple[float, float]] = []
    for _ in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(calls):
            await call()
        results.append(((time.process_time() - cpu) / calls, (time.perf_counter() - wall) / calls))
    return sorted(results)[len(results) // 2]


def summary(values: Sequence[float]) -> str:
    """p50/p90 in milliseconds, for one line of output."""
    median, p90 = percentile(values, 50) * 1000, percentile(values, 90) * 1000
    return f"median {median:7.1f} ms   p90 {p90:7.1f} ms"


def machine() -> str:
    """nproc, CPU model, kernel, Python and Docker engine versions."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    client = docker.from_env()
    try:
        engine = client.version().get("Version", "?")
    finally:
        client.close()
    return (
        f"nproc={os.cpu_count()}  cpu={cpu}  kernel={platform.release()}  "
        f"python={platform.python_version()}  docker={engine}"
    )


def gateway_port(stack: Stack) -> int:
    port = urlsplit(stack.url).port
    if port is None:
        raise ValueError(f"no port in {stack.url}")
    return port


class RestClient:
    """A keep-alive REST client for the gateway, authenticated as the stack's test user."""

    def __init__(self, stack: Stack) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", gateway_port(stack), timeout=30)
        self._headers = {"Content-Type": "application/json", "X-Tapis-Token": stack.token()}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The parsed JSON body of a 200 answer; raises on any other status."""
        payload = json.dumps(body).encode() if body is not None else None
        self._conn.request(method, path, body=payload, headers=self._headers)
        response = self._conn.getresponse()
        data = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: {response.status} {data}")
        return data

    def close(self) -> None:
        self._conn.close()


@contextmanager
def running_stack(
    extra_env: dict[str, str] | None = None, database: str = "sqlite"
) -> Iterator[Stack]:
    """A whole local stack ("sqlite" or "postgres": a fresh database) in its own temporary
    directory, stopped (containers removed) on exit."""
    with tempfile.TemporaryDirectory(prefix="pods-bench-") as tmp:
        stack = start_stack(Path(tmp), extra_env, database)
        try:
            yield stack
        finally:
            stop_stack(stack)


def http_ok(port: int) -> bool:
    """Whether GET / on the loopback `port` answers 200 within a second."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
