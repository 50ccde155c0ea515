"""Builds and runs a grpc.aio server with the standard health service (kept true by
dependency_health.DependencyHealth), metrics, log context and tracing for every call
(grpc_observability.py) and reflection-free defaults; used by the api, spawner and health
processes so they start and stop alike."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence

import grpc
from grpc_health.v1 import health_pb2_grpc

from services.common.dependency_health import DependencyHealth
from services.common.grpc_observability import server_interceptors

log = logging.getLogger(__name__)

Registrar = Callable[[grpc.aio.Server], None]


def new_server(
    port: int,
    register: Registrar,
    health: DependencyHealth,
    host: str = "127.0.0.1",
    options: Sequence[tuple[str, int]] = (),
) -> grpc.aio.Server:
    """A server on host:`port` with our services and grpc.health.v1 as `health` reports it
    (run `health.run()` as a background task of serve_until_stopped); `options` are extra
    gRPC channel arguments (the spawner's larger message size)."""
    server = grpc.aio.server(
        interceptors=server_interceptors(), options=[("grpc.so_reuseport", 0), *options]
    )
    register(server)
    health_pb2_grpc.add_HealthServicer_to_server(health.servicer, server)
    server.add_insecure_port(f"{host}:{port}")
    return server


def stop_event() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT, for a graceful shutdown."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve_until_stopped(
    server: grpc.aio.Server, stop: asyncio.Event, *background: Awaitable[None]
) -> None:
    """Starts `server`, runs the background tasks, and shuts all down when `stop` is set."""
    await server.start()
    tasks = [asyncio.ensure_future(b) for b in background]
    waiter = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task is not waiter and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())
    stop.set()
    await server.stop(grace=2)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    waiter.cancel()
