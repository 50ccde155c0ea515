"""The HTTP load loop of gateway_throughput.py, one process per client (multiprocessing needs
the worker importable): GET / on one connection, keep-alive, reconnecting whenever the server
closes, over TLS (certificate verified) when the target has a CA file.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

MAX_OPS = 5_000_000  # per worker: a bound on every loop besides its time


@dataclass(frozen=True)
class HttpTarget:
    port: int
    host: str  # Host header, and SNI when tls
    cafile: str | None = None  # TLS when set


def _http_connect(target: HttpTarget) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=10)
    sock = socket.create_connection(("127.0.0.1", target.port), timeout=10)
    if target.cafile:
        context = ssl.create_default_context(cafile=target.cafile)
        context.set_alpn_protocols(["http/1.1"])
        conn.sock = context.wrap_socket(sock, server_hostname=target.host)
    else:
        conn.sock = sock
    return conn


def http_worker(args: tuple[HttpTarget, float, float]) -> tuple[int, list[float], int]:
    """GET / until end; latency includes a reconnect when the last answer closed the
    connection. Returns the count, latencies and connections opened inside the window."""
    target, start, end = args
    latencies: list[float] = []
    connections = 0
    conn: http.client.HTTPConnection | None = None
    for _ in range(MAX_OPS):
        began = time.monotonic()
        if began >= end:
            break
        if conn is None:
            conn = _http_connect(target)
            connections += began >= start
        conn.request("GET", "/", headers={"Host": target.host})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET / on {target}: {response.status}")
        if response.will_close:
            conn.close()
            conn = None
        if began >= start:
            latencies.append(time.monotonic() - began)
    if conn is not None:
        conn.close()
    return len(latencies), latencies, connections
