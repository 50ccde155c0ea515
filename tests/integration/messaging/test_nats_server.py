"""EmbeddedNatsServer: starts a JetStream server on loopback, fails clearly, stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import nats
import pytest

from services.common.nats_server import EmbeddedNatsServer, NatsServerError, find_nats_server

from .conftest import free_port

pytestmark = pytest.mark.timeout(60)


def test_finds_the_binary_from_the_wheel() -> None:
    assert Path(find_nats_server()).name == "nats-server"


async def test_serves_jetstream_until_stopped(tmp_path: Path) -> None:
    server = EmbeddedNatsServer(free_port(), tmp_path / "store")
    async with server:
        assert server.running
        assert server.url == f"nats://127.0.0.1:{server.port}"
        client = await nats.connect(server.url)
        try:
            info = await client.jetstream().account_info()
        finally:
            await client.close()
        assert info.limits is not None
    assert not server.running
    assert (tmp_path / "store" / "jetstream").is_dir()
    assert "Server is ready" in (tmp_path / "store" / "nats-server.log").read_text()


async def test_start_and_stop_are_idempotent(tmp_path: Path) -> None:
    server = EmbeddedNatsServer(free_port(), tmp_path)
    await server.start()
    await server.start()
    await server.stop()
    await server.stop()
    assert not server.running


async def test_a_taken_port_is_reported_with_the_log(tmp_path: Path) -> None:
    async with EmbeddedNatsServer(free_port(), tmp_path / "one") as first:
        second = EmbeddedNatsServer(first.port, tmp_path / "two", startup_timeout=10)
        with pytest.raises(NatsServerError, match="exited at start-up"):
            await second.start()
        assert not second.running
        assert first.running


async def test_a_missing_binary_is_reported(tmp_path: Path) -> None:
    server = EmbeddedNatsServer(free_port(), tmp_path, binary=str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError):
        await server.start()


async def test_keep_running_restarts_a_killed_server_with_its_streams(tmp_path: Path) -> None:
    server = EmbeddedNatsServer(free_port(), tmp_path / "store")
    await server.start()
    pid_file = tmp_path / "pids" / "nats.pid"
    keeper = asyncio.create_task(server.keep_running(pid_file, check_every=0.05))
    try:
        client = await nats.connect(server.url)
        try:
            js = client.jetstream()
            await js.add_stream(name="KEPT", subjects=["kept.>"])
            await js.publish("kept.one", b"survives")
        finally:
            await client.close()
        while not pid_file.exists():
            await asyncio.sleep(0.02)
        first = int(pid_file.read_text())
        os.kill(first, signal.SIGKILL)
        for _ in range(200):  # the keeper notices and starts it again
            await asyncio.sleep(0.05)
            if pid_file.read_text() != str(first) and server.running:
                break
        assert server.running and int(pid_file.read_text()) != first
        client = await nats.connect(server.url)
        try:
            message = await client.jetstream().get_last_msg("KEPT", "kept.one")
        finally:
            await client.close()
        assert message.data == b"survives"
    finally:
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
        await server.stop()
