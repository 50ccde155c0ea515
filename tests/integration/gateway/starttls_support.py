"""Routes, route tables, clients and log readers shared by the STARTTLS router's integration
tests (test_starttls_router.py with in-test pods, test_starttls_postgres.py with real
PostgreSQL and libpq)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import struct

import pytest

from gateway.certs import TlsFiles
from gateway.postgres_wire import (
    GSSENC_REQUEST_CODE,
    SSL_REQUEST_CODE,
)
from gateway.routes import PodRoute, RouteTable

DOMAIN = "pods.test"
LOGGER = "gateway.starttls_router"
SSL_REQUEST = struct.pack("!II", 8, SSL_REQUEST_CODE)
GSSENC_REQUEST = struct.pack("!II", 8, GSSENC_REQUEST_CODE)
MIB = 1024 * 1024


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
