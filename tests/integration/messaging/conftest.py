"""Fixtures for messaging tests against a real nats-server.

One private EmbeddedNatsServer (a leased port, temp store) serves the whole session; each test
gets its own deployment id, hence its own streams. Tests that stop the server start their
own with `private_server`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from services.common.messaging import CommandHandler
from services.common.messaging.nats_bus import MessageBus
from services.common.nats_server import EmbeddedNatsServer
from services.common.settings import Settings
from tests.ports import reserve_port as free_port

__all__ = ["free_port"]  # leased (tests/ports.py); the tests of this package import it here

ACK_WAIT = 1.0  # seconds: short, so redelivery tests are quick


def settings_for(url: str, ack_wait: float = ACK_WAIT) -> Settings:
    """Settings of a fresh deployment (its own streams) on the server at `url`."""
    deployment = f"test-{uuid.uuid4().hex[:10]}"
    return Settings(nats_url=url, deployment_id=deployment, ack_wait=ack_wait)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Polls `check` until it returns True, failing after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {within}s")
        await asyncio.sleep(0.05)


async def backlog_is(bus: MessageBus, expected: int, within: float = 10.0) -> None:
    async def check() -> bool:
        return await bus.command_backlog() == expected

    await eventually(check, within)


@asynccontextmanager
async def consuming(
    bus: MessageBus, handler: CommandHandler, concurrency: int = 8
) -> AsyncIterator[asyncio.Task[None]]:
    """Runs consume_commands in a task; on exit stops it and waits (bounded) for it."""
    stop = asyncio.Event()
    task = asyncio.create_task(bus.consume_commands(handler, stop=stop, concurrency=concurrency))
    try:
        yield task
    finally:
        stop.set()
        if not task.done():
            await asyncio.wait_for(task, 15)


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNatsServer]:
    server = EmbeddedNatsServer(free_port(), tmp_path_factory.mktemp("nats"))
    asyncio.run(server.start())
    yield server
    asyncio.run(server.stop())


@pytest.fixture
def settings(nats_server: EmbeddedNatsServer) -> Settings:
    return settings_for(nats_server.url)


@pytest.fixture
async def bus(settings: Settings) -> AsyncIterator[MessageBus]:
    bus = await MessageBus.connect(settings, connect_within=5)
    await bus.ensure_streams()
    yield bus
    await bus.close()


@pytest.fixture
async def private_server(tmp_path: Path) -> AsyncIterator[EmbeddedNatsServer]:
    server = EmbeddedNatsServer(free_port(), tmp_path / "nats")
    await server.start()
    yield server
    await server.stop()
