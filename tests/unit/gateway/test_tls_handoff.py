"""Unit tests of the STARTTLS router's hand-off parts: the ClientHello reader
(gateway/client_hello.py) on ClientHellos made by Python's own TLS client, the refusal alert
as a real TLS client sees it, and the kernel relay (gateway/splice_relay.py) over socket
pairs: both ways, half-close, backpressure with more than the pipe holds, idle timeout."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct

import pytest

from gateway.client_hello import (
    MalformedHello,
    alert_record,
    record_length,
    server_name,
)
from gateway.splice_relay import SpliceRelay


def client_hello(sni: str | None, alpn: list[str] | None = None) -> bytes:
    """The first record a Python TLS client sends for `sni` (None: no SNI)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if alpn:
        context.set_alpn_protocols(alpn)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    session = context.wrap_bio(incoming, outgoing, server_hostname=sni)
    with pytest.raises(ssl.SSLWantReadError):
        session.do_handshake()
    return outgoing.read()


@pytest.mark.parametrize("alpn", [None, ["postgresql"]])
def test_the_server_name_of_a_real_client_hello_is_read(alpn: list[str] | None) -> None:
    record = client_hello("db.pods.test", alpn)
    assert record_length(record[:5]) == len(record)
    assert server_name(record) == "db.pods.test"


def test_a_client_hello_without_sni_has_no_server_name() -> None:
    assert server_name(client_hello(None)) is None


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (b"\x17\x03\x03\x00\x10", "not a TLS handshake record"),  # application data
        (b"GET /", "not a TLS handshake record"),
        (b"\x16\x03\x03\x00\x00", "out of range"),
        (b"\x16\x03\x03\xff\xff", "out of range"),
    ],
)
def test_a_record_that_is_not_a_handshake_is_refused(header: bytes, why: str) -> None:
    with pytest.raises(MalformedHello, match=why):
        record_length(header)


def test_a_truncated_client_hello_is_refused() -> None:
    record = client_hello("db.pods.test")
    body = record[5:60]
    cut = record[:3] + struct.pack("!H", len(body)) + body
    with pytest.raises(MalformedHello, match="truncated"):
        server_name(cut)
    with pytest.raises(MalformedHello, match="incomplete"):
        server_name(record[:-1])


def test_a_real_client_reads_the_refusal_as_unrecognized_name() -> None:
    context = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    session = context.wrap_bio(incoming, outgoing, server_hostname="nope.pods.test")
    with pytest.raises(ssl.SSLWantReadError):
        session.do_handshake()
    incoming.write(alert_record(ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME))
    with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
        session.do_handshake()


# --- the kernel relay ----------------------------------------------------------------------------


def pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    return a, b


async def relayed(
    idle_timeout: float | None = None, grace: float = 5.0
) -> tuple[socket.socket, socket.socket, asyncio.Task[str], SpliceRelay]:
    """client_end <-> [relay client | relay server] <-> server_end."""
    client_end, relay_client = pair()
    relay_server, server_end = pair()
    relay = SpliceRelay(
        relay_client, relay_server, idle_timeout=idle_timeout, half_close_grace=grace
    )
    task = asyncio.create_task(relay.run())

    def close(_: object) -> None:
        relay_client.close()
        relay_server.close()

    task.add_done_callback(close)
    return client_end, server_end, task, relay


async def read_until_eof(sock: socket.socket) -> bytes:
    loop = asyncio.get_running_loop()
    received = bytearray()
    while chunk := await loop.sock_recv(sock, 1 << 16):
        received += chunk
    return bytes(received)


async def test_bytes_cross_both_ways_and_half_close_is_passed_on() -> None:
    loop = asyncio.get_running_loop()
    client, server, task, relay = await relayed()
    await loop.sock_sendall(client, b"ping")
    assert await loop.sock_recv(server, 10) == b"ping"
    await loop.sock_sendall(server, b"pong")
    assert await loop.sock_recv(client, 10) == b"pong"
    client.shutdown(socket.SHUT_WR)  # the client is done; the server may still answer
    assert await loop.sock_recv(server, 10) == b""
    await loop.sock_sendall(server, b"last words")
    server.close()
    assert await read_until_eof(client) == b"last words"
    assert await asyncio.wait_for(task, 5) == "closed by client"
    assert (relay.inbound.moved, relay.outbound.moved) == (4, 14)
    client.close()


async def test_more_than_the_pipe_holds_crosses_with_backpressure() -> None:
    loop = asyncio.get_running_loop()
    client, server, task, _ = await relayed()
    data = bytes(range(256)) * (16 * 1024)  # 4 MiB: the reader is slower than the writer

    async def send() -> None:
        await loop.sock_sendall(client, data)
        client.shutdown(socket.SHUT_WR)

    sender = asyncio.create_task(send())
    await asyncio.sleep(0.05)  # let the relay fill the socket buffers and stop reading
    received = await read_until_eof(server)
    await sender
    server.close()
    assert received == data
    assert await asyncio.wait_for(task, 5) == "closed by client"
    client.close()


async def test_the_pod_closing_ends_the_relay() -> None:
    client, server, task, _ = await relayed()
    server.close()
    assert await asyncio.wait_for(task, 5) == "closed by pod"
    assert await read_until_eof(client) == b""
    client.close()


async def test_a_silent_connection_ends_after_the_idle_timeout() -> None:
    loop = asyncio.get_running_loop()
    client, server, task, _ = await relayed(idle_timeout=0.3)
    for _ in range(3):  # activity pushes the deadline back
        await asyncio.sleep(0.15)
        await loop.sock_sendall(client, b"x")
        assert await loop.sock_recv(server, 10) == b"x"
    began = loop.time()
    assert await asyncio.wait_for(task, 5) == "idle timeout"
    assert 0.2 < loop.time() - began < 2
    client.close()
    server.close()


async def test_a_pod_that_does_not_finish_after_the_client_ends_is_cut_after_the_grace() -> None:
    client, server, task, _ = await relayed(grace=0.2)
    client.shutdown(socket.SHUT_WR)
    assert await asyncio.wait_for(task, 5) == "closed by client (pod did not finish)"
    client.close()
    server.close()
