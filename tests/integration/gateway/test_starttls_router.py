"""The STARTTLS router over real sockets.

Part 1 (no Docker): raw protocol clients and small in-test pods (echo, stalled, flooding)
check the negotiation (GSSENC/SSL/cancel/plaintext/garbage), TLS alerts, timeouts,
backpressure, half-close and stop().

Part 2 (`docker`): two pods-postgres containers behind the router, reached with psycopg2
(libpq 17) exactly as users do: `host=<name>.pods.test hostaddr=127.0.0.1 port=<router>`.
psycopg2 blocks, so there the router runs on its own event loop in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import glob
import hashlib
import io
import logging
import os
import secrets
import ssl
import struct
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import psycopg2
import psycopg2.errors
import pytest

from gateway.certs import TlsFiles, ensure_dev_certificates
from gateway.routes import PodRoute, RouteTable
from gateway.starttls_router import (
    CANCEL_REQUEST_CODE,
    GSSENC_REQUEST_CODE,
    SSL_REQUEST_CODE,
    StartTlsRouter,
)
from tests.ports import reserve_port as free_port

DOMAIN = "pods.test"
LOGGER = "gateway.starttls_router"
SSL_REQUEST = struct.pack("!II", 8, SSL_REQUEST_CODE)
GSSENC_REQUEST = struct.pack("!II", 8, GSSENC_REQUEST_CODE)
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return ensure_dev_certificates(tmp_path_factory.mktemp("certs"), DOMAIN)


def pod_route(
    host: str, port: int, *, status: str = "AVAILABLE", protocol: str = "postgres"
) -> PodRoute:
    return PodRoute(
        host=host,
        protocol=protocol,
        tenant_id="dev",
        pod_id=host.split(".")[0],
        stanza="default",
        status=status,
        upstream_host="127.0.0.1",
        upstream_port=port,
    )


class Tables:
    """The route table a router reads; tests swap `current` at run time."""

    def __init__(self, *routes: PodRoute) -> None:
        self.current = RouteTable.build(routes)

    def set(self, *routes: PodRoute) -> None:
        self.current = RouteTable.build(routes)

    def __call__(self) -> RouteTable:
        return self.current


def connection_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == LOGGER and r.getMessage().startswith("postgres connection ")
    ]


def kernel_buffer_bound() -> int:
    """What two TCP hops (client -> router -> pod) can hold in socket buffers at most: a send
    and a receive buffer each, at the kernel's maximum sizes, plus 8 MiB for user space."""

    def largest(name: str) -> int:
        return int(Path(f"/proc/sys/net/ipv4/{name}").read_text().split()[2])

    return 2 * (largest("tcp_wmem") + largest("tcp_rmem")) + 8 * MIB


# =============================================================================================
# Part 1: raw clients, in-test pods
# =============================================================================================

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


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(64 * 1024):
            writer.write(data)
            await writer.drain()
    writer.close()


def client_context(tls: TlsFiles, *, check_hostname: bool = True) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(tls.ca))
    context.check_hostname = check_hostname
    return context


async def open_tls(
    port: int,
    context: ssl.SSLContext,
    server_name: str | None,
    *,
    first: tuple[bytes, ...] = (SSL_REQUEST,),
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A libpq-like client: the given requests (each answered by one byte, the last `S`),
    then TLS with `server_name` as SNI."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for request in first:
        writer.write(request)
        answer = await reader.readexactly(1)
    assert answer == b"S"
    await writer.start_tls(context, server_hostname=server_name)
    return reader, writer


async def read_all(reader: asyncio.StreamReader) -> bytes:
    """Everything until the end of stream (a reset counts as the end)."""
    chunks = []
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        while data := await reader.read(64 * 1024):
            chunks.append(data)
    return b"".join(chunks)


def startup_packet(user: str = "u", database: str = "d") -> bytes:
    body = struct.pack("!I", 3 << 16) + f"user\0{user}\0database\0{database}\0\0".encode()
    return struct.pack("!I", len(body) + 4) + body


def error_fields(data: bytes) -> dict[str, str]:
    assert data[:1] == b"E", data[:20]
    (length,) = struct.unpack("!I", data[1:5])
    fields = data[5 : 1 + length].rstrip(b"\0").split(b"\0")
    return {f[:1].decode(): f[1:].decode() for f in fields}


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


class MemoryTlsClient:
    """A TLS client driven through memory buffers, so it can send close_notify and keep
    reading (asyncio's TLS transport cannot half-close)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        context: ssl.SSLContext,
        server_name: str,
    ) -> None:
        self.reader, self.writer = reader, writer
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname=server_name)

    async def _pump(self) -> None:
        self.writer.write(self.outgoing.read())
        await self.writer.drain()
        data = await self.reader.read(64 * 1024)
        if data:
            self.incoming.write(data)
        else:
            self.incoming.write_eof()

    async def handshake(self) -> None:
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                await self._pump()
        self.writer.write(self.outgoing.read())

    async def send(self, data: bytes) -> None:
        self.tls.write(data)
        self.writer.write(self.outgoing.read())
        await self.writer.drain()

    async def close_write(self) -> None:
        with contextlib.suppress(ssl.SSLWantReadError):
            self.tls.unwrap()
        self.writer.write(self.outgoing.read())
        await self.writer.drain()

    async def receive_all(self) -> bytes:
        received = b""
        while True:
            try:
                data = self.tls.read(64 * 1024)
            except ssl.SSLWantReadError:
                await self._pump()
                continue
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return received
            if not data:
                return received
            received += data


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


# =============================================================================================
# Part 2: real PostgreSQL pods, real libpq
# =============================================================================================

POSTGRES_IMAGE = "pods-postgres:15"
TEST_LABELS = {"org.pods-service.test": "1"}
READY_TIMEOUT_S = 60.0
docker_test = pytest.mark.docker


@dataclass(frozen=True)
class Pg:
    """A PostgreSQL pod: its published port and login."""

    port: int
    user: str
    password: str
    dbname: str


@pytest.fixture(scope="module")
def pods() -> Iterator[dict[str, Pg]]:
    """Two pods-postgres containers with different logins: {"a": ..., "b": ...}."""
    try:
        engine = docker.from_env()
        engine.ping()
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine: {exc}")
    try:
        engine.images.get(POSTGRES_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{POSTGRES_IMAGE} is missing: run scripts/build-images")
    containers: list[Any] = []
    try:
        found: dict[str, Pg] = {}
        for name in ("a", "b"):
            password = f"pw-{secrets.token_urlsafe(12)}"
            user, dbname = f"user_{name}", f"db_{name}"
            container = engine.containers.run(
                POSTGRES_IMAGE,
                detach=True,
                init=True,
                labels=TEST_LABELS,
                environment={
                    "POSTGRES_USER": user,
                    "POSTGRES_PASSWORD": password,
                    "POSTGRES_DB": dbname,
                },
                ports={"5432/tcp": ("127.0.0.1", None)},
            )
            containers.append(container)
            container.reload()
            port = int(container.ports["5432/tcp"][0]["HostPort"])
            found[name] = Pg(port, user, password, dbname)
        for pg in found.values():
            wait_ready(pg)
        yield found
    finally:
        for container in containers:
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True, v=True)
        engine.close()


def wait_ready(pg: Pg) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            psycopg2.connect(
                host="127.0.0.1",
                port=pg.port,
                user=pg.user,
                password=pg.password,
                dbname=pg.dbname,
                sslmode="disable",
                connect_timeout=3,
            ).close()
            return
        except psycopg2.OperationalError as exc:
            if time.monotonic() > deadline:
                pytest.fail(f"PostgreSQL on {pg.port} not ready after {READY_TIMEOUT_S} s: {exc}")
            time.sleep(0.25)


class RouterThread:
    """The router on its own event loop in a thread, for blocking clients (psycopg2)."""

    def __init__(self, tls: TlsFiles, tables: Tables) -> None:
        self.tables = tables
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.router = StartTlsRouter(tables, tls, handshake_timeout=5.0)

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.router.start("127.0.0.1", 0), self.loop).result(10)

    @property
    def port(self) -> int:
        return self.router.port

    def wait_idle(self) -> None:
        deadline = time.monotonic() + 10
        while self.router.active_connections:
            assert time.monotonic() < deadline, "connections still open after 10 s"
            time.sleep(0.02)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.router.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def routed(pods: dict[str, Pg], tls: TlsFiles) -> Iterator[RouterThread]:
    """A router with a.pods.test -> pod A and b.pods.test -> pod B."""
    thread = RouterThread(
        tls,
        Tables(pod_route("a.pods.test", pods["a"].port), pod_route("b.pods.test", pods["b"].port)),
    )
    thread.start()
    yield thread
    thread.stop()


def connect(router: RouterThread, host: str, pg: Pg, **params: Any) -> Any:
    settings: dict[str, Any] = {
        "host": host,
        "hostaddr": "127.0.0.1",
        "port": router.port,
        "user": pg.user,
        "password": pg.password,
        "dbname": pg.dbname,
        "connect_timeout": 5,
        "options": "-c statement_timeout=30000",
        "sslmode": "require",
    }
    settings.update(params)
    if settings["sslmode"] is None:
        del settings["sslmode"]
    return psycopg2.connect(**settings)


def identity(connection: Any) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database()")
        user, dbname = cursor.fetchone()
    return user, dbname


@docker_test
def test_each_name_lands_on_its_pod(routed: RouterThread, pods: dict[str, Pg]) -> None:
    for name in ("a", "b"):
        connection = connect(routed, f"{name}.pods.test", pods[name])
        try:
            assert identity(connection) == (pods[name].user, pods[name].dbname)
            assert connection.info.ssl_in_use
            assert connection.info.ssl_attribute("protocol") == "TLSv1.3"
        finally:
            connection.close()


@docker_test
def test_verify_full_trusts_the_dev_ca(
    routed: RouterThread, pods: dict[str, Pg], tls: TlsFiles
) -> None:
    connection = connect(
        routed, "a.pods.test", pods["a"], sslmode="verify-full", sslrootcert=str(tls.ca)
    )
    try:
        assert identity(connection) == (pods["a"].user, pods["a"].dbname)
    finally:
        connection.close()


@docker_test
def test_verify_full_rejects_another_ca(
    routed: RouterThread, pods: dict[str, Pg], tmp_path: Path
) -> None:
    other = ensure_dev_certificates(tmp_path, DOMAIN)
    with pytest.raises(psycopg2.OperationalError, match="certificate verify failed"):
        connect(routed, "a.pods.test", pods["a"], sslmode="verify-full", sslrootcert=str(other.ca))


@docker_test
def test_default_sslmode_prefer_uses_tls_and_sends_ssl_request_first(
    routed: RouterThread,
    pods: dict[str, Pg],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    for variable in ("PGSSLMODE", "PGGSSENCMODE", "PGSSLNEGOTIATION", "PGREQUIRESSL"):
        monkeypatch.delenv(variable, raising=False)
    connection = connect(routed, "b.pods.test", pods["b"], sslmode=None)  # libpq's default
    try:
        assert identity(connection) == (pods["b"].user, pods["b"].dbname)
        assert connection.info.ssl_in_use
        assert connection.get_dsn_parameters()["sslmode"] == "prefer"
    finally:
        connection.close()
    routed.wait_idle()
    (line,) = connection_lines(caplog)
    # libpq 17 defaults: no GSSENCRequest without Kerberos credentials, SSLRequest first.
    assert "requests=ssl sni='b.pods.test' pod=dev/b outcome=closed by " in line
    assert pods["b"].password not in caplog.text


@docker_test
def test_the_pods_own_authentication_still_decides(
    routed: RouterThread, pods: dict[str, Pg]
) -> None:
    wrong = Pg(pods["a"].port, pods["a"].user, "not-the-password", pods["a"].dbname)
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connect(routed, "a.pods.test", wrong)
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connect(routed, "a.pods.test", pods["b"])  # B's login on pod A


@docker_test
def test_an_unknown_name_fails(routed: RouterThread, pods: dict[str, Pg]) -> None:
    with pytest.raises(psycopg2.OperationalError, match="tlsv1 unrecognized name"):
        connect(routed, "c.pods.test", pods["a"])
    # prefer: libpq retries without TLS after the failed handshake, and is refused again.
    with pytest.raises(psycopg2.OperationalError) as refused:
        connect(routed, "c.pods.test", pods["a"], sslmode="prefer")
    assert "tlsv1 unrecognized name" in str(refused.value)
    assert "accepts PostgreSQL connections over TLS only" in str(refused.value)


@docker_test
def test_a_route_that_is_not_serving_fails(routed: RouterThread, pods: dict[str, Pg]) -> None:
    routed.tables.set(
        pod_route("a.pods.test", pods["a"].port, status="STOPPED"),
        pod_route("b.pods.test", pods["b"].port),
    )
    with pytest.raises(psycopg2.OperationalError, match="tlsv1 unrecognized name"):
        connect(routed, "a.pods.test", pods["a"])
    connect(routed, "b.pods.test", pods["b"]).close()


@docker_test
def test_sslmode_disable_is_refused(routed: RouterThread, pods: dict[str, Pg]) -> None:
    with pytest.raises(
        psycopg2.OperationalError, match="accepts PostgreSQL connections over TLS only"
    ):
        connect(routed, "a.pods.test", pods["a"], sslmode="disable")


@docker_test
def test_swapping_the_table_affects_new_connections_only(
    routed: RouterThread, pods: dict[str, Pg]
) -> None:
    routed.tables.set(pod_route("a.pods.test", pods["a"].port))
    first = connect(routed, "a.pods.test", pods["a"])
    try:
        assert identity(first) == (pods["a"].user, pods["a"].dbname)

        routed.tables.set(pod_route("a.pods.test", pods["b"].port))  # the name moves to pod B
        second = connect(routed, "a.pods.test", pods["b"])
        try:
            assert identity(second) == (pods["b"].user, pods["b"].dbname)
        finally:
            second.close()
        assert identity(first) == (pods["a"].user, pods["a"].dbname)  # still on A

        routed.tables.set()  # every route gone
        with pytest.raises(psycopg2.OperationalError, match="tlsv1 unrecognized name"):
            connect(routed, "a.pods.test", pods["a"])
        assert identity(first) == (pods["a"].user, pods["a"].dbname)
    finally:
        first.close()


@docker_test
def test_parallel_connections_each_reach_their_pod(
    routed: RouterThread, pods: dict[str, Pg]
) -> None:
    def work(i: int) -> int:
        name = "ab"[i % 2]
        connection = connect(routed, f"{name}.pods.test", pods[name])
        try:
            with connection.cursor() as cursor:
                total = 0
                for j in range(20):
                    cursor.execute("SELECT %s::int, current_database(), repeat('x', 10000)", (j,))
                    value, dbname, filler = cursor.fetchone()
                    assert dbname == pods[name].dbname and len(filler) == 10000
                    total += value
            return total
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(work, range(10), timeout=60))
    assert results == [sum(range(20))] * 10
    routed.wait_idle()


@docker_test
def test_large_results_and_uploads_cross(routed: RouterThread, pods: dict[str, Pg]) -> None:
    connection = connect(routed, "a.pods.test", pods["a"])
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT repeat('x', %s)", (16 * MIB,))
            assert len(cursor.fetchone()[0]) == 16 * MIB
            cursor.execute("CREATE TEMP TABLE t (n int, s text)")
            rows = "".join(f"{i}\t{'y' * 1000}\n" for i in range(8000))  # ~8 MB
            cursor.copy_expert("COPY t FROM STDIN", io.StringIO(rows))
            cursor.execute("SELECT count(*), sum(n), sum(length(s)) FROM t")
            assert cursor.fetchone() == (8000, sum(range(8000)), 8000 * 1000)
    finally:
        connection.close()


def bundled_libpq() -> ctypes.CDLL:
    """The libpq psycopg2-binary loaded (the same file, so the same library instance)."""
    found = glob.glob(str(Path(psycopg2.__file__).parents[1] / "psycopg2_binary.libs" / "libpq*"))
    if not found:
        pytest.skip("psycopg2 is not the binary wheel: no bundled libpq to call")
    lib = ctypes.CDLL(found[0])
    void = ctypes.c_void_p
    lib.PQgetCancel.restype, lib.PQgetCancel.argtypes = void, [void]
    lib.PQcancel.argtypes = [void, ctypes.c_char_p, ctypes.c_int]
    lib.PQfreeCancel.argtypes = [void]
    lib.PQcancelCreate.restype, lib.PQcancelCreate.argtypes = void, [void]
    lib.PQcancelBlocking.argtypes = [void]
    lib.PQcancelFinish.argtypes = [void]
    return lib


def legacy_cancel(lib: ctypes.CDLL, connection: Any) -> int:
    """libpq's PQcancel (what psycopg2's connection.cancel() calls; called through ctypes
    because psycopg2 holds the GIL meanwhile, which would freeze the in-process router)."""
    handle = lib.PQgetCancel(ctypes.c_void_p(connection.pgconn_ptr))
    errors = ctypes.create_string_buffer(256)
    try:
        return int(lib.PQcancel(handle, errors, 256))
    finally:
        lib.PQfreeCancel(handle)


def encrypted_cancel(lib: ctypes.CDLL, connection: Any) -> int:
    """libpq 17's PQcancelCreate + PQcancelBlocking: the cancel goes over TLS with SNI."""
    handle = lib.PQcancelCreate(ctypes.c_void_p(connection.pgconn_ptr))
    try:
        return int(lib.PQcancelBlocking(handle))
    finally:
        lib.PQcancelFinish(handle)


@docker_test
@pytest.mark.parametrize(
    "cancel", [legacy_cancel, encrypted_cancel], ids=["PQcancel", "PQcancelBlocking"]
)
def test_cancel_requests_reach_the_right_pod(
    routed: RouterThread,
    pods: dict[str, Pg],
    caplog: pytest.LogCaptureFixture,
    cancel: Callable[[ctypes.CDLL, Any], int],
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    lib = bundled_libpq()
    bystander = connect(routed, "b.pods.test", pods["b"])  # same pid range, other pod
    connection = connect(routed, "a.pods.test", pods["a"])
    results: list[int] = []
    try:
        timer = threading.Timer(0.5, lambda: results.append(cancel(lib, connection)))
        timer.start()
        started = time.monotonic()
        with pytest.raises(psycopg2.errors.QueryCanceled), connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(20)")
        assert time.monotonic() - started < 10
        timer.join(10)
        assert results == [1]
        assert identity(bystander) == (pods["b"].user, pods["b"].dbname)
    finally:
        connection.close()
        bystander.close()
    routed.wait_idle()
    cancels = [
        line
        for line in connection_lines(caplog)
        if "bytes_to_pod=16 " in line or "requests=cancel" in line
    ]
    assert len(cancels) == 1 and "pod=dev/a" in cancels[0]
