"""The STARTTLS router's hand-off: after the router has answered a classic client's SSLRequest
with `S`, read the ClientHello, decide from its SNI, and pass the TLS stream byte for byte to
Envoy's hand-off listener (gateway/pods_listener.py, `handoff_listener`), which terminates TLS
and proxies to the pod; the bytes then move in the kernel (gateway/splice_relay.py).

Called by gateway/starttls_router.py when it is given a hand-off socket path. The router keeps
its own checks: the same SNI decisions (gateway/sni_gate.py, refusals sent as the same TLS
alerts), no plaintext accepted after the SSLRequest (as PostgreSQL), the handshake timeout up
to the hand-off, the idle timeout and half-close after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl

from gateway.client_hello import (
    RECORD_HEADER,
    MalformedHello,
    alert_record,
    record_length,
    server_name,
)
from gateway.routes import PodRoute
from gateway.sni_gate import SniGate
from gateway.splice_relay import SpliceRelay

LISTENER_WAIT_S = 1.0


class HandoffRefused(Exception):
    """The connection ends before the hand-off; the message is the logged outcome."""


def take_socket(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> socket.socket:
    """Takes the client's socket from its asyncio transport (a duplicate, non-blocking; the
    transport is aborted). The caller paused reading before answering `S`, so the transport
    has read nothing since the SSLRequest; anything already buffered is plaintext the client
    sent early, refused as PostgreSQL refuses it."""
    buffered = getattr(reader, "_buffer", b"")  # asyncio keeps no public way to ask
    if buffered:
        writer.transport.abort()
        raise HandoffRefused("unencrypted data after SSLRequest")
    transport_socket = writer.get_extra_info("socket")
    if transport_socket is None:
        writer.transport.abort()
        raise HandoffRefused("no socket to hand off")
    sock = socket.socket(fileno=os.dup(transport_socket.fileno()))
    sock.setblocking(False)
    writer.transport.abort()
    return sock


async def read_hello(sock: socket.socket) -> bytes:
    """The first TLS record (the ClientHello), read whole; HandoffRefused for anything else."""
    loop = asyncio.get_running_loop()
    header = await _read_exactly(loop, sock, RECORD_HEADER)
    try:
        total = record_length(header)
    except MalformedHello as exc:
        raise HandoffRefused(f"tls handshake failed: {exc}") from None
    return header + await _read_exactly(loop, sock, total - RECORD_HEADER)


def hello_server_name(record: bytes) -> str | None:
    """The SNI of a ClientHello record; HandoffRefused when it is malformed."""
    try:
        return server_name(record)
    except MalformedHello as exc:
        raise HandoffRefused(f"tls handshake failed: {exc}") from None


async def refuse(sock: socket.socket, alert: int, outcome: str) -> None:
    """Sends the fatal alert a TLS server would, then raises HandoffRefused(outcome)."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(OSError):
        await loop.sock_sendall(sock, alert_record(alert))
    raise HandoffRefused(outcome)


async def connect_envoy(path: str, hello: bytes) -> socket.socket:
    """A non-blocking connection to Envoy's hand-off listener, the ClientHello already sent.
    Envoy adds the listener with the first postgres route, a moment after the router sees the
    route: a missing socket is retried for up to LISTENER_WAIT_S (within the handshake
    timeout)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LISTENER_WAIT_S
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            await loop.sock_connect(sock, path)
            await loop.sock_sendall(sock, hello)
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(0.05)
            continue
        except BaseException:
            sock.close()
            raise
        return sock


async def _read_exactly(loop: asyncio.AbstractEventLoop, sock: socket.socket, count: int) -> bytes:
    received = bytearray()
    while len(received) < count:
        chunk = await loop.sock_recv(sock, count - len(received))
        if not chunk:
            raise HandoffRefused("client closed during the TLS handshake")
        received += chunk
    return bytes(received)


class Handoff:
    """One connection's hand-off: `start` after the SSLRequest (answers `S`, reads the
    ClientHello, decides, connects to Envoy), `relay` until the end, `close` always; what is
    logged about it in `sni`, `route`, `to_pod` and `from_pod` (TLS bytes)."""

    def __init__(self, gate: SniGate, path: str) -> None:
        self._gate = gate
        self._path = path
        self._client: socket.socket | None = None
        self._envoy: socket.socket | None = None
        self.sni: str | None = None
        self.route: PodRoute | None = None
        self.to_pod = 0
        self.from_pod = 0

    async def start(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Up to the relay; HandoffRefused (the outcome) when the connection ends here."""
        transport = writer.transport
        if not isinstance(transport, asyncio.ReadTransport):
            raise HandoffRefused("no socket to hand off")
        transport.pause_reading()  # from `S` on, the bytes are read here
        writer.write(b"S")
        await writer.drain()
        self._client = client = take_socket(reader, writer)
        hello = await read_hello(client)
        decision = self._gate.decide(hello_server_name(hello))
        self.sni = decision.server_name
        if decision.alert is not None:
            refusal = decision.refusal.value if decision.refusal else "?"
            await refuse(client, decision.alert, f"refused: {refusal}")
        self.route = decision.route
        try:
            self._envoy = await connect_envoy(self._path, hello)
        except OSError as exc:
            await refuse(
                client,
                ssl.ALERT_DESCRIPTION_INTERNAL_ERROR,
                f"gateway unreachable: {type(exc).__name__}",
            )
        self.to_pod = len(hello)

    async def relay(self, idle_timeout: float | None, half_close_grace: float) -> str:
        """Relays in the kernel until the connection ends; the outcome."""
        assert self._client is not None and self._envoy is not None
        relay = SpliceRelay(
            self._client, self._envoy, idle_timeout=idle_timeout, half_close_grace=half_close_grace
        )
        try:
            return await relay.run()
        finally:
            self.to_pod += relay.inbound.moved
            self.from_pod += relay.outbound.moved

    def close(self) -> None:
        for sock in (self._client, self._envoy):
            if sock is not None:
                sock.close()
