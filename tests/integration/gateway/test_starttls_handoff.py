"""The STARTTLS router handing TLS streams off (gateway/tls_handoff.py), over real sockets.

An in-test "Envoy" on a Unix socket terminates TLS with the pods certificate and echoes, as
Envoy's pods_handoff listener terminates it and proxies to the pod (Envoy itself, with real
PostgreSQL pods and libpq: tests/e2e/test_networking.py). Checks that the bytes cross intact
in the kernel relay, that the router's SNI decisions and alerts hold before any byte reaches
Envoy, that plaintext sent early after the SSLRequest is refused, and the timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.certs import TlsFiles, ensure_dev_certificates
from gateway.routes import RouteTable
from gateway.starttls_router import StartTlsRouter
from services.common.stanza_options import StanzaOptions
from tests.integration.gateway.starttls_support import (
    DOMAIN,
    LOGGER,
    MIB,
    SSL_REQUEST,
    Tables,
    client_context,
    connection_lines,
    echo,
    pod_route,
    read_all,
)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return ensure_dev_certificates(tmp_path_factory.mktemp("certs"), DOMAIN)


class FakeEnvoy:
    """Terminates TLS on a Unix socket and echoes; counts the connections it got."""

    def __init__(self, tls: TlsFiles, path: Path) -> None:
        self.path = path
        self.connections = 0
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(tls.cert, tls.key)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(
            self._serve, str(self.path), ssl=self.context
        )

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await echo(reader, writer)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def envoy(tls: TlsFiles, tmp_path: Path) -> AsyncIterator[FakeEnvoy]:
    fake = FakeEnvoy(tls, tmp_path / "handoff.sock")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def start_router(
    tls: TlsFiles, envoy: FakeEnvoy
) -> AsyncIterator[Callable[..., Awaitable[StartTlsRouter]]]:
    routers: list[StartTlsRouter] = []

    async def start(tables: Callable[[], RouteTable], **kwargs: Any) -> StartTlsRouter:
        kwargs.setdefault("handoff", str(envoy.path))
        router = StartTlsRouter(tables, tls, **kwargs)
        await router.start("127.0.0.1", 0)
        routers.append(router)
        return router

    yield start
    for router in routers:
        await router.stop()


async def starttls(
    port: int, context: ssl.SSLContext, server_name: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(SSL_REQUEST)
    assert await reader.readexactly(1) == b"S"
    await writer.start_tls(context, server_hostname=server_name)
    return reader, writer


async def settled(router: StartTlsRouter) -> None:
    while router.active_connections:
        await asyncio.sleep(0.01)


async def test_the_tls_stream_crosses_to_envoy_intact_and_is_logged(
    start_router: Any, envoy: FakeEnvoy, tls: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    # The route's pod port is never used: Envoy proxies to the pod.
    router = await start_router(Tables(pod_route("db.pods.test", 1)))
    payload = b"SECRET-PAYLOAD" + os.urandom(8 * MIB)
    async with asyncio.timeout(30):
        reader, writer = await starttls(router.port, client_context(tls), "db.pods.test")

        async def send() -> None:
            for i in range(0, len(payload), MIB):
                writer.write(payload[i : i + MIB])
                await writer.drain()

        sender = asyncio.create_task(send())
        received = await reader.readexactly(len(payload))
        await sender
        writer.close()
        await read_all(reader)
        await settled(router)
    assert hashlib.sha256(received).digest() == hashlib.sha256(payload).digest()
    assert envoy.connections == 1
    (line,) = connection_lines(caplog)
    assert "requests=ssl sni='db.pods.test' pod=dev/db outcome=closed by " in line
    to_pod = int(line.split("bytes_to_pod=")[1].split()[0])
    assert to_pod > len(payload)  # TLS records: the payload and its framing
    assert "SECRET-PAYLOAD" not in caplog.text


@pytest.mark.parametrize(
    ("routes", "name", "outcome"),
    [
        ((), "nope.pods.test", "refused: no route for this name"),
        ((pod_route("web.pods.test", 1, protocol="http"),), "web.pods.test", "not a PostgreSQL"),
        ((pod_route("db.pods.test", 1, status="STOPPED"),), "db.pods.test", "not serving"),
    ],
)
async def test_names_the_router_refuses_get_unrecognized_name_and_never_reach_envoy(
    start_router: Any,
    envoy: FakeEnvoy,
    tls: TlsFiles,
    caplog: pytest.LogCaptureFixture,
    routes: tuple[Any, ...],
    name: str,
    outcome: str,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    router = await start_router(Tables(*routes))
    async with asyncio.timeout(10):
        with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
            await starttls(router.port, client_context(tls), name)
        await settled(router)
    assert envoy.connections == 0
    (line,) = connection_lines(caplog)
    assert f"sni='{name}'" in line and outcome in line


async def test_a_route_with_an_ip_allow_list_is_refused_before_envoy(
    start_router: Any, envoy: FakeEnvoy, tls: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    walled = pod_route("db.pods.test", 1)
    walled = type(walled)(
        **{**walled.__dict__, "options": StanzaOptions(ip_allow_list=("10.0.0.0/8",))}
    )
    router = await start_router(Tables(walled))
    async with asyncio.timeout(10):
        with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
            await starttls(router.port, client_context(tls), "db.pods.test")
        await settled(router)
    assert envoy.connections == 0
    assert "sslnegotiation=direct" in connection_lines(caplog)[0]


async def test_plaintext_sent_with_the_ssl_request_is_refused(
    start_router: Any, envoy: FakeEnvoy, caplog: pytest.LogCaptureFixture
) -> None:
    """As PostgreSQL: bytes that came before `S` cannot be part of the TLS session."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    router = await start_router(Tables(pod_route("db.pods.test", 1)))
    async with asyncio.timeout(10):
        reader, writer = await asyncio.open_connection("127.0.0.1", router.port)
        writer.write(SSL_REQUEST + b"\x16\x03\x01\x00\x05hello")
        assert await read_all(reader) in (b"", b"S")
        writer.close()
        await settled(router)
    assert envoy.connections == 0
    (line,) = connection_lines(caplog)
    assert "outcome=unencrypted data after SSLRequest" in line


async def test_envoy_not_listening_is_an_internal_error_alert(
    start_router: Any, envoy: FakeEnvoy, tls: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    await envoy.stop()
    envoy.path.unlink(missing_ok=True)
    router = await start_router(Tables(pod_route("db.pods.test", 1)))
    async with asyncio.timeout(10):
        with pytest.raises(ssl.SSLError, match="INTERNAL_ERROR"):
            await starttls(router.port, client_context(tls), "db.pods.test")
        await settled(router)
    (line,) = connection_lines(caplog)
    assert "outcome=gateway unreachable: FileNotFoundError" in line


async def test_a_silent_client_after_s_times_out_and_an_idle_one_is_closed(
    start_router: Any, tls: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    router = await start_router(
        Tables(pod_route("db.pods.test", 1)), handshake_timeout=0.5, idle_timeout=0.5
    )
    async with asyncio.timeout(10):
        reader, writer = await asyncio.open_connection("127.0.0.1", router.port)
        writer.write(SSL_REQUEST)
        assert await reader.readexactly(1) == b"S"
        assert await read_all(reader) == b""  # no ClientHello within the handshake timeout
        writer.close()
        reader, writer = await starttls(router.port, client_context(tls), "db.pods.test")
        writer.write(b"ping")
        assert await reader.readexactly(4) == b"ping"
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            assert await read_all(reader) == b""  # closed after 0.5 s of silence
        writer.close()
        await settled(router)
    outcomes = [line.split("outcome=")[1].split(" bytes_")[0] for line in connection_lines(caplog)]
    assert outcomes == ["negotiation timed out", "idle timeout"]
