"""The STARTTLS router over real sockets, without Docker.

Raw protocol clients and small in-test pods (echo, stalled, flooding) check the negotiation
(GSSENC/SSL/cancel/plaintext/garbage), TLS alerts, timeouts, backpressure, half-close and
stop(). Real PostgreSQL pods and libpq: test_starttls_postgres.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import ssl
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.certs import TlsFiles, ensure_dev_certificates
from gateway.postgres_wire import CANCEL_REQUEST_CODE
from gateway.routes import PodRoute, RouteTable
from gateway.starttls_router import StartTlsRouter
from tests.integration.gateway.starttls_support import (
    DOMAIN,
    GSSENC_REQUEST,
    LOGGER,
    MIB,
    SSL_REQUEST,
    MemoryTlsClient,
    Tables,
    client_context,
    connection_lines,
    echo,
    error_fields,
    open_tls,
    pod_route,
    read_all,
    startup_packet,
)
from tests.ports import reserve_port as free_port


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return ensure_dev_certificates(tmp_path_factory.mktemp("certs"), DOMAIN)


def kernel_buffer_bound() -> int:
    """What two TCP hops (client -> router -> pod) can hold in socket buffers at most: a send
    and a receive buffer each, at the kernel's maximum sizes, plus 8 MiB for user space."""

    def largest(name: str) -> int:
        return int(Path(f"/proc/sys/net/ipv4/{name}").read_text().split()[2])

    return 2 * (largest("tcp_wmem") + largest("tcp_rmem")) + 8 * MIB


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def start_pod() -> AsyncIterator[Callable[[Handler], Awaitable[int]]]:
    """Starts an in-test TCP "pod" with the given handler; returns its port."""
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> int:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def start_router(tls: TlsFiles) -> AsyncIterator[Callable[..., Awaitable[StartTlsRouter]]]:
    routers: list[StartTlsRouter] = []

    async def start(tables: Callable[[], RouteTable], **kwargs: Any) -> StartTlsRouter:
        router = StartTlsRouter(tables, tls, **kwargs)
        await router.start("127.0.0.1", 0)
        routers.append(router)
        return router

    yield start
    for router in routers:
        await router.stop()


async def test_bytes_cross_intact_both_ways_and_are_logged_not_shown(
    start_pod: Any, start_router: Any, tls: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    router = await start_router(Tables(pod_route("echo.pods.test", await start_pod(echo))))
    payload = b"SECRET-PAYLOAD" + os.urandom(8 * MIB)

    async with asyncio.timeout(30):
        reader, writer = await open_tls(router.port, client_context(tls), "echo.pods.test")
        ssl_object = writer.get_extra_info("ssl_object")
        assert ssl_object.selected_alpn_protocol() is None  # we offered none
        assert ssl_object.version() == "TLSv1.3"

        async def send() -> None:
            for i in range(0, len(payload), MIB):
                writer.write(payload[i : i + MIB])
                await writer.drain()

        sender = asyncio.create_task(send())
        received = await reader.readexactly(len(payload))
        await sender
        writer.close()
        await read_all(reader)
        while router.active_connections:
            await asyncio.sleep(0.01)

    assert hashlib.sha256(received).digest() == hashlib.sha256(payload).digest()
    (line,) = connection_lines(caplog)
    assert "requests=ssl sni='echo.pods.test' pod=dev/echo" in line
    assert f"bytes_to_pod={len(payload)} bytes_from_pod={len(payload)}" in line
    assert "SECRET-PAYLOAD" not in caplog.text


async def test_gssenc_is_declined_then_ssl_goes_on(
    start_pod: Any, start_router: Any, tls: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    router = await start_router(Tables(pod_route("echo.pods.test", await start_pod(echo))))
    async with asyncio.timeout(10):
        reader, writer = await asyncio.open_connection("127.0.0.1", router.port)
        writer.write(GSSENC_REQUEST)
        assert await reader.readexactly(1) == b"N"
        writer.write(SSL_REQUEST)
        assert await reader.readexactly(1) == b"S"
        await writer.start_tls(client_context(tls), server_hostname="echo.pods.test")
        writer.write(b"ping")
        assert await reader.readexactly(4) == b"ping"
        writer.close()
        await read_all(reader)
        while router.active_connections:
            await asyncio.sleep(0.01)
    (line,) = connection_lines(caplog)
    assert "requests=gssenc,ssl" in line


@pytest.mark.parametrize(
    ("first", "outcome"),
    [
        (
            struct.pack("!III", 16, CANCEL_REQUEST_CODE, 77) + b"\0\0\0\1",
            "cancel request for no proxied connection",
        ),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "unrecognized request"),
        (GSSENC_REQUEST + GSSENC_REQUEST, "unrecognized request"),  # only one GSSENC
        (b"\0\0\0", "negotiation timed out"),  # never a whole request
        (b"", "negotiation timed out"),
    ],
)
async def test_other_requests_are_closed_unanswered(
    start_router: Any, caplog: pytest.LogCaptureFixture, first: bytes, outcome: str
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    router = await start_router(Tables(), handshake_timeout=0.5)
    async with asyncio.timeout(5):
        reader, writer = await asyncio.open_connection("127.0.0.1", router.port)
        writer.write(first)
        answer = await read_all(reader)
        writer.close()
        while router.active_connections:
            await asyncio.sleep(0.01)
    assert answer in (b"", b"N")  # the N of the first GSSENC only
    (line,) = connection_lines(caplog)
    assert f"outcome={outcome}" in line


async def test_ssl_request_then_silence_times_out(start_router: Any) -> None:
    router = await start_router(Tables(), handshake_timeout=0.5)
    async with asyncio.timeout(5):
        reader, writer = await asyncio.open_connection("127.0.0.1", router.port)
        writer.write(SSL_REQUEST)
        assert await reader.readexactly(1) == b"S"
        started = time.monotonic()
        assert await read_all(reader) == b""
        assert 0.3 < time.monotonic() - started < 3
        writer.close()


async def test_plaintext_startup_gets_a_tls_required_error(start_router: Any) -> None:
    router = await start_router(Tables())
    async with asyncio.timeout(5):
        reader, writer = await asyncio.open_connection("127.0.0.1", router.port)
        writer.write(startup_packet())
        answer = await read_all(reader)
        writer.close()
    fields = error_fields(answer)
    assert fields["S"] == "FATAL" and fields["C"] == "28000"
    assert "TLS only" in fields["M"]


async def test_direct_tls_is_not_served_here(start_router: Any, tls: TlsFiles) -> None:
    """sslnegotiation=direct clients are Envoy's business; here a ClientHello is garbage."""
    router = await start_router(Tables())
    async with asyncio.timeout(5):
        with pytest.raises((ssl.SSLError, ConnectionError)):
            await asyncio.open_connection(
                "127.0.0.1", router.port, ssl=client_context(tls), server_hostname="x.pods.test"
            )


@pytest.mark.parametrize(
    "routes",
    [
        (),
        (pod_route("pg.pods.test", 1, status="STOPPED"),),
        (pod_route("pg.pods.test", 0),),
        (pod_route("pg.pods.test", 1, protocol="tcp"),),
    ],
    ids=["unknown", "stopped", "no-port", "not-postgres"],
)
async def test_refused_names_get_the_alert_over_the_wire(
    start_router: Any, tls: TlsFiles, routes: tuple[PodRoute, ...]
) -> None:
    router = await start_router(Tables(*routes))
    async with asyncio.timeout(5):
        with pytest.raises(ssl.SSLError, match="TLSV1_UNRECOGNIZED_NAME"):
            await open_tls(router.port, client_context(tls), "pg.pods.test")


async def test_no_sni_gets_the_alert(start_router: Any, start_pod: Any, tls: TlsFiles) -> None:
    router = await start_router(Tables(pod_route("echo.pods.test", await start_pod(echo))))
    async with asyncio.timeout(5):
        with pytest.raises(ssl.SSLError, match="TLSV1_UNRECOGNIZED_NAME"):
            await open_tls(router.port, client_context(tls, check_hostname=False), None)


async def test_an_unreachable_pod_is_reported_in_the_protocol(
    start_router: Any, tls: TlsFiles
) -> None:
    router = await start_router(Tables(pod_route("gone.pods.test", free_port())))
    async with asyncio.timeout(10):
        reader, writer = await open_tls(router.port, client_context(tls), "gone.pods.test")
        writer.write(startup_packet())
        answer = await read_all(reader)
        writer.close()
    fields = error_fields(answer)
    assert fields["C"] == "08006"
    assert fields["M"] == "the pod behind gone.pods.test is not reachable right now"


async def test_idle_connections_are_closed_and_busy_ones_kept(
    start_pod: Any, start_router: Any, tls: TlsFiles
) -> None:
    router = await start_router(
        Tables(pod_route("echo.pods.test", await start_pod(echo))), idle_timeout=0.5
    )
    async with asyncio.timeout(10):
        busy_reader, busy = await open_tls(router.port, client_context(tls), "echo.pods.test")
        idle_reader, idle = await open_tls(router.port, client_context(tls), "echo.pods.test")
        started = time.monotonic()
        idle_ended = asyncio.create_task(read_all(idle_reader))
        for _ in range(10):  # 2 s of traffic every 0.2 s
            busy.write(b"ping")
            assert await busy_reader.readexactly(4) == b"ping"
            await asyncio.sleep(0.2)
        assert idle_ended.done() and await idle_ended == b""
        assert time.monotonic() - started > 1.5
        busy.close()
        idle.close()


async def test_client_to_pod_backpressure_bounds_what_is_buffered(
    start_pod: Any, start_router: Any, tls: TlsFiles
) -> None:
    release = asyncio.Event()

    async def stalled(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()  # never reads
        writer.close()

    router = await start_router(Tables(pod_route("slow.pods.test", await start_pod(stalled))))
    bound = kernel_buffer_bound()
    chunk, accepted = b"x" * MIB, 0
    async with asyncio.timeout(60):
        _, writer = await open_tls(router.port, client_context(tls), "slow.pods.test")
        while accepted < bound + 64 * MIB:
            writer.write(chunk)
            try:
                await asyncio.wait_for(writer.drain(), 1.0)
            except TimeoutError:
                break
            accepted += len(chunk)
        release.set()
        writer.transport.abort()
    # The client is held back once socket buffers are full (about 10 MiB measured here).
    assert accepted < bound


async def test_pod_to_client_backpressure_bounds_what_is_buffered(
    start_pod: Any, start_router: Any, tls: TlsFiles
) -> None:
    bound = kernel_buffer_bound()
    written = 0

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal written
        chunk = b"y" * MIB
        with contextlib.suppress(ConnectionError):
            while written < bound + 64 * MIB:
                writer.write(chunk)
                await writer.drain()
                written += len(chunk)
        writer.close()

    router = await start_router(Tables(pod_route("flood.pods.test", await start_pod(flood))))
    async with asyncio.timeout(60):
        _, writer = await open_tls(router.port, client_context(tls), "flood.pods.test")
        last = -1
        while written != last:  # the client never reads; wait until the pod stalls
            last = written
            await asyncio.sleep(1.0)
        writer.transport.abort()
    assert 0 < written < bound


async def test_the_clients_end_of_stream_reaches_the_pod_which_may_still_answer(
    start_pod: Any, start_router: Any, tls: TlsFiles
) -> None:
    async def count_then_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        total = 0
        while data := await reader.read(64 * 1024):  # until the client's end of stream
            total += len(data)
        writer.write(f"got {total}".encode())
        await writer.drain()
        writer.close()

    router = await start_router(
        Tables(pod_route("count.pods.test", await start_pod(count_then_answer)))
    )
    async with asyncio.timeout(10):
        reader, writer = await asyncio.open_connection("127.0.0.1", router.port)
        writer.write(SSL_REQUEST)
        assert await reader.readexactly(1) == b"S"
        client = MemoryTlsClient(reader, writer, client_context(tls), "count.pods.test")
        await client.handshake()
        await client.send(b"z" * 100_000)
        await client.close_write()
        assert await client.receive_all() == b"got 100000"
        writer.close()


async def test_the_pods_close_ends_the_client_connection(
    start_pod: Any, start_router: Any, tls: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"bye")
        writer.close()

    router = await start_router(Tables(pod_route("once.pods.test", await start_pod(answer_once))))
    async with asyncio.timeout(10):
        reader, writer = await open_tls(router.port, client_context(tls), "once.pods.test")
        writer.write(b"hello")
        assert await read_all(reader) == b"bye"
        writer.close()
        while router.active_connections:
            await asyncio.sleep(0.01)
    (line,) = connection_lines(caplog)
    assert "outcome=closed by pod bytes_to_pod=5 bytes_from_pod=3" in line


async def test_stop_closes_every_connection(
    start_pod: Any, tls: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    router = StartTlsRouter(Tables(pod_route("echo.pods.test", await start_pod(echo))), tls)
    await router.start("127.0.0.1", 0)
    port = router.port
    async with asyncio.timeout(10):
        clients = [
            await open_tls(router.port, client_context(tls), "echo.pods.test") for _ in range(3)
        ]
        silent = await asyncio.open_connection("127.0.0.1", router.port)  # still negotiating
        for reader, writer in clients:
            writer.write(b"ping")
            assert await reader.readexactly(4) == b"ping"
        assert router.active_connections == 4
        await router.stop()
        assert router.active_connections == 0
        for reader, writer in [*clients, silent]:
            assert await read_all(reader) == b""
            writer.close()
        with pytest.raises(ConnectionRefusedError):  # no longer listening
            await asyncio.open_connection("127.0.0.1", port)
    outcomes = [line.split("outcome=")[1].split(" bytes_")[0] for line in connection_lines(caplog)]
    assert outcomes == ["router stopped"] * 4
