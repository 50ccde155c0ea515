"""STARTTLS-aware router for classic PostgreSQL clients on the pods port.

Classic libpq clients (`sslmode=prefer|require|verify-*`, `sslnegotiation=postgres`, the
default) send an 8-byte SSLRequest in plaintext before TLS, so Envoy sees no SNI and forwards
every non-TLS connection of the pods port here (tcp_proxy). This router:

1. reads the first request: GSSENCRequest -> answers `N` and reads the next one (once);
   SSLRequest -> answers `S`; a plaintext StartupMessage (`sslmode=disable`) -> a FATAL
   ErrorResponse saying TLS is required, then close; CancelRequest -> see below; anything
   else -> close;
2. runs the TLS handshake itself (the wildcard certificate of the pods domain), deciding in
   the SNI callback from the route table *as it is at that moment*: a serving `postgres`
   route for the name, or the handshake fails with the TLS alert `unrecognized_name` (no
   SNI, unknown name, another protocol, pod not serving);
3. connects to the pod's PostgreSQL (plain TCP to `route.upstream_host:upstream_port`) and
   proxies the decrypted stream both ways with bounded buffers and backpressure, passing a
   client's end of stream on to the pod as a TCP half-close.

TLS runs over `ssl.MemoryBIO`s (gateway/tls_stream.py) rather than `StreamWriter.start_tls`:
with 3.11's `start_tls` a failed handshake force-closes the socket before the alert leaves,
so a refused client would see a reset instead of `unrecognized_name`; driving the `SSLObject`
ourselves also ties each SNI decision to its connection and keeps any plaintext a client sent
early inside the TLS record stream (it can never pass for application data).

Cancel requests. libpq's legacy `PQcancel` (psycopg2's `connection.cancel()`, psql's Ctrl-C,
pgjdbc) opens a new plaintext connection carrying only the backend's (pid, secret key): no
SNI. The router watches each proxied connection's first server messages for that key
(BackendKeyData) and forwards a plaintext CancelRequest carrying a key it knows to that
connection's pod; any other CancelRequest is closed unanswered (libpq still reports success,
as PostgreSQL never answers a cancel). libpq 17's `PQcancelCreate`/`PQcancelBlocking` send
the cancel over TLS with SNI and are routed like any connection. Keys are known only to the
router process that proxies the connection (several routers behind one port: a cancel may
reach one that does not know the key).

Other limitations: the pod sees the router as its client, so client certificates, SCRAM
channel binding (`channel_binding=require`) and the client's address cannot reach it; the
certificate is loaded once, at construction; the router sets no cap on connections of its
own (Envoy's listener in front can).

Run by gateway/pod_router.py next to the gateway control plane, which passes a callable
returning the current `RouteTable` (read at each connection) and the TLS files of
gateway/certs.py. This module is the listener and the per-connection handling; the protocol
bytes are gateway/postgres_wire.py, the SNI decisions gateway/sni_gate.py and the TLS session
over memory buffers gateway/tls_stream.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, NoReturn

from gateway.certs import TlsFiles
from gateway.postgres_wire import (
    MAX_STARTUP_PACKET,
    SQLSTATE_CONNECTION_FAILURE,
    SQLSTATE_TLS_REQUIRED,
    BackendKeyWatcher,
    RequestKind,
    cancel_key,
    classify_request,
    error_response,
    packet_length,
)
from gateway.routes import PodRoute, RouteTable
from gateway.sni_gate import SniGate
from gateway.tls_handoff import Handoff, HandoffRefused
from gateway.tls_stream import CHUNK, TlsStream

logger = logging.getLogger(__name__)

READER_LIMIT = 64 * 1024  # StreamReader pauses its socket above twice this
HALF_CLOSE_GRACE_S = 30.0  # after the client's end of stream, how long the pod may keep sending
CLOSE_TIMEOUT_S = 2.0  # flushing a closing socket; aborted after this


class _Finished(Exception):
    """Ends a connection before (or instead of) proxying; the message is the logged outcome."""


_NETWORK_ERRORS = (ConnectionError, OSError, ssl.SSLError, asyncio.IncompleteReadError)


@dataclass
class _Connection:
    """What is logged about one client connection (never any of its data)."""

    peer: str
    started: float
    requests: list[str] = field(default_factory=list)
    sni: str | None = None
    route: PodRoute | None = None
    outcome: str = "closed"
    cancel_key: bytes | None = None  # the pod's BackendKeyData for this connection
    to_pod: int = 0
    from_pod: int = 0
    last_activity: float = 0.0

    def log(self, now: float) -> None:
        pod = f"{self.route.tenant_id}/{self.route.pod_id}" if self.route else "-"
        sni = repr(self.sni[:260]) if self.sni is not None else "-"
        logger.info(
            "postgres connection peer=%s requests=%s sni=%s pod=%s outcome=%s "
            "bytes_to_pod=%d bytes_from_pod=%d duration=%.3fs",
            self.peer,
            ",".join(self.requests) or "-",
            sni,
            pod,
            self.outcome,
            self.to_pod,
            self.from_pod,
            now - self.started,
        )


class StartTlsRouter:
    """Accepts classic PostgreSQL clients, terminates TLS chosen by SNI and proxies each
    connection to its pod's PostgreSQL.

    `routes` is called at every TLS handshake, so the caller swaps the table at run time by
    returning a new one; open connections keep their pod. `handshake_timeout` bounds
    everything before proxying (requests, TLS handshake, connecting to the pod);
    `idle_timeout` (None: never) closes a connection silent in both directions for that long.

    With `handoff` (the Unix socket path of Envoy's hand-off listener) the router does not
    terminate TLS: it reads the SNI of the ClientHello, decides as above, and relays the TLS
    stream unchanged to Envoy in the kernel (gateway/tls_handoff.py). Envoy then terminates
    TLS and proxies to the pod; the router never sees the pod's BackendKeyData, so plaintext
    CancelRequests find no connection (libpq 17's PQcancelBlocking, over TLS, still works).
    """

    def __init__(
        self,
        routes: Callable[[], RouteTable],
        tls: TlsFiles,
        *,
        handshake_timeout: float = 10.0,
        idle_timeout: float | None = None,
        handoff: str | None = None,
    ) -> None:
        if handshake_timeout <= 0:
            raise ValueError("handshake_timeout must be positive")
        if idle_timeout is not None and idle_timeout <= 0:
            raise ValueError("idle_timeout must be positive (or None)")
        self._gate = SniGate(routes, tls)
        self._handshake_timeout = handshake_timeout
        self._idle_timeout = idle_timeout
        self._handoff = handoff
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        # Cancel keys of the connections being proxied, for plaintext CancelRequests.
        self._by_cancel_key: dict[bytes, _Connection] = {}

    @property
    def port(self) -> int:
        """The TCP port the router listens on (useful after `start(host, 0)`)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the router is not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def active_connections(self) -> int:
        """Client connections being negotiated or proxied right now."""
        return len(self._tasks)

    async def start(self, host: str, port: int) -> None:
        """Listens on host:port (port 0: any free port, see `port`)."""
        if self._server is not None:
            raise RuntimeError("the router is already started")
        self._stopping = False
        self._server = await asyncio.start_server(self._serve, host, port, limit=READER_LIMIT)
        logger.info("starttls router listening on %s:%d", host, self.port)

    async def stop(self) -> None:
        """Stops listening and closes every connection, proxied or not."""
        if self._server is None:
            return
        self._stopping = True
        server, self._server = self._server, None
        server.close()
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The task is asyncio's (start_server); it must end normally, even when cancelled,
        # or asyncio reports it as an unhandled exception.
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        loop = asyncio.get_running_loop()
        conn = _Connection(peer=_peer(writer), started=loop.time())
        upstream: asyncio.StreamWriter | None = None
        tls: TlsStream | None = None
        handoff = Handoff(self._gate, self._handoff) if self._handoff else None
        try:
            if self._stopping:
                raise _Finished("router stopping")
            try:
                async with asyncio.timeout(self._handshake_timeout):
                    await self._read_requests(reader, writer, conn)
                    if handoff is not None:
                        await handoff.start(reader, writer)
                    else:
                        tls = await self._negotiate(reader, writer, conn)
                        upstream_reader, upstream = await self._connect(tls, conn)
            except TimeoutError:
                raise _Finished("negotiation timed out") from None
            if handoff is not None:
                conn.outcome = await handoff.relay(self._idle_timeout, HALF_CLOSE_GRACE_S)
            else:
                assert tls is not None and upstream is not None
                conn.outcome = await self._proxy(tls, upstream_reader, upstream, conn)
        except HandoffRefused as refused:
            conn.outcome = str(refused)
        except _Finished as refused:
            conn.outcome = str(refused)
        except asyncio.CancelledError:
            conn.outcome = "router stopped"
        except _NETWORK_ERRORS as exc:
            conn.outcome = f"network error before proxying: {type(exc).__name__}"
        except Exception:
            logger.exception("starttls router: unexpected error (peer %s)", conn.peer)
            conn.outcome = "internal error"
        finally:
            if conn.cancel_key is not None and self._by_cancel_key.get(conn.cancel_key) is conn:
                del self._by_cancel_key[conn.cancel_key]
            if tls is not None:
                tls.shutdown()
            if handoff is not None:
                conn.sni, conn.route = handoff.sni, handoff.route
                conn.to_pod, conn.from_pod = handoff.to_pod, handoff.from_pod
                handoff.close()
            await _close(writer, upstream)
            conn.log(loop.time())
            self._tasks.discard(task)

    async def _read_requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: _Connection
    ) -> None:
        """Reads the requests up to an SSLRequest; _Finished for anything else."""
        try:
            head = await reader.readexactly(8)
            kind = classify_request(head)
            conn.requests.append(kind.value)
            if kind is RequestKind.GSSENC:
                writer.write(b"N")  # no GSSAPI encryption here; libpq goes on with SSL or not
                await writer.drain()
                head = await reader.readexactly(8)
                kind = classify_request(head)
                conn.requests.append(kind.value)
        except asyncio.IncompleteReadError:
            raise _Finished("client closed before a complete request") from None
        if kind is RequestKind.CANCEL:
            await self._forward_cancel(head, reader, conn)
        if kind is RequestKind.STARTUP:
            with contextlib.suppress(asyncio.IncompleteReadError):
                await reader.readexactly(packet_length(head) - 8)
            writer.write(
                error_response(
                    SQLSTATE_TLS_REQUIRED,
                    "the pods gateway accepts PostgreSQL connections over TLS only "
                    "(use sslmode=require or verify-full)",
                )
            )
            await writer.drain()
            raise _Finished("plaintext startup refused")
        if kind is not RequestKind.SSL:
            raise _Finished("unrecognized request")

    async def _negotiate(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: _Connection
    ) -> TlsStream:
        """Answers the SSLRequest and runs the TLS handshake; _Finished if it fails."""
        writer.write(b"S")
        await writer.drain()
        session, incoming, outgoing = self._gate.session()
        tls = TlsStream(session, incoming, outgoing, reader, writer)
        try:
            await tls.handshake()
        except ssl.SSLError as exc:
            decision = self._gate.take(session)
            if decision is not None:
                conn.sni = decision.server_name
            if decision is not None and decision.refusal is not None:
                raise _Finished(f"refused: {decision.refusal.value}") from None
            raise _Finished(f"tls handshake failed: {exc.reason or type(exc).__name__}") from None
        decision = self._gate.take(session)
        if decision is None or decision.route is None:  # cannot happen: no cert without SNI
            raise _Finished("tls handshake without a routing decision")
        conn.sni, conn.route = decision.server_name, decision.route
        return tls

    async def _forward_cancel(
        self, head: bytes, reader: asyncio.StreamReader, conn: _Connection
    ) -> NoReturn:
        """Sends a plaintext CancelRequest to the pod of the connection whose key it carries,
        and waits for the pod to close it (libpq waits for that close, too)."""
        try:
            packet = head + await reader.readexactly(packet_length(head) - 8)
        except asyncio.IncompleteReadError:
            raise _Finished("client closed before a complete request") from None
        target = self._by_cancel_key.get(cancel_key(packet))
        if target is None or target.route is None:
            raise _Finished("cancel request for no proxied connection (not routable)")
        conn.route = target.route
        pod_reader, pod = await asyncio.open_connection(
            target.route.upstream_host, target.route.upstream_port, limit=READER_LIMIT
        )
        try:
            pod.write(packet)
            await pod.drain()
            conn.to_pod = len(packet)
            while await pod_reader.read(CHUNK):
                pass
        finally:
            await _close(pod)
        raise _Finished("cancel request forwarded")

    async def _connect(
        self, tls: TlsStream, conn: _Connection
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        route = conn.route
        assert route is not None
        try:
            return await asyncio.open_connection(
                route.upstream_host, route.upstream_port, limit=READER_LIMIT
            )
        except OSError as exc:
            # Tell the client why in its own protocol, after reading its startup packet.
            await _read_startup(tls)
            await tls.write(
                error_response(
                    SQLSTATE_CONNECTION_FAILURE,
                    f"the pod behind {route.host} is not reachable right now",
                )
            )
            raise _Finished(f"pod unreachable: {type(exc).__name__}") from None

    async def _proxy(
        self,
        tls: TlsStream,
        upstream_reader: asyncio.StreamReader,
        upstream: asyncio.StreamWriter,
        conn: _Connection,
    ) -> str:
        """Copies both ways until one side ends; returns the outcome to log."""
        loop = asyncio.get_running_loop()
        conn.last_activity = loop.time()

        async def client_to_pod() -> str:
            while True:
                data = await tls.read()
                if not data:
                    if upstream.can_write_eof():
                        upstream.write_eof()  # the pod sees the client's end of stream
                    return "closed by client"
                conn.last_activity = loop.time()
                conn.to_pod += len(data)
                upstream.write(data)
                await upstream.drain()

        async def pod_to_client() -> str:
            keys = BackendKeyWatcher()
            while True:
                data = await upstream_reader.read(CHUNK)
                if not data:
                    return "closed by pod"
                conn.last_activity = loop.time()
                conn.from_pod += len(data)
                if not keys.done:
                    keys.feed(data)
                    if keys.key is not None and conn.cancel_key is None:
                        conn.cancel_key = keys.key
                        self._by_cancel_key[keys.key] = conn
                await tls.write(data)

        async def idle() -> str:
            assert self._idle_timeout is not None
            # Activity pushes the deadline back; re-checked when the sleep ends.
            while (left := conn.last_activity + self._idle_timeout - loop.time()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(left)
            return "idle timeout"

        inbound = asyncio.create_task(_guarded(client_to_pod(), "to pod"))
        outbound = asyncio.create_task(_guarded(pod_to_client(), "to client"))
        tasks = {inbound, outbound}
        if self._idle_timeout is not None:
            tasks.add(asyncio.create_task(idle()))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            first = done.pop()
            outcome = first.result()
            if first is inbound and outcome == "closed by client" and not outbound.done():
                # Half-closed: let the pod finish (PostgreSQL closes on end of stream).
                tasks.discard(inbound)
                done, _ = await asyncio.wait(
                    tasks, timeout=HALF_CLOSE_GRACE_S, return_when=asyncio.FIRST_COMPLETED
                )
                if not done:
                    return "closed by client (pod did not finish)"
                if outbound not in done:
                    return done.pop().result()
            return outcome
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(inbound, outbound, *tasks, return_exceptions=True)


async def _guarded(pump: Coroutine[Any, Any, str], direction: str) -> str:
    """A pump's outcome, with network errors turned into an outcome too."""
    try:
        return await pump
    except _NETWORK_ERRORS as exc:
        return f"error copying {direction}: {type(exc).__name__}"


async def _read_startup(tls: TlsStream) -> None:
    """Reads (and drops) the client's first packet over TLS, so that closing afterwards does
    not reset a connection with unread data; bounded by MAX_STARTUP_PACKET."""
    received = b""
    while len(received) < 4 or len(received) < min(packet_length(received), MAX_STARTUP_PACKET):
        data = await tls.read()
        if not data:
            return
        received += data


async def _close(*writers: asyncio.StreamWriter | None) -> None:
    """Closes the sockets, giving them CLOSE_TIMEOUT_S to flush, then aborts."""
    open_writers = [w for w in writers if w is not None]
    for writer in open_writers:
        writer.close()
    waits = [asyncio.ensure_future(w.wait_closed()) for w in open_writers]
    with contextlib.suppress(asyncio.CancelledError):  # stopping: abort below
        await asyncio.wait(waits, timeout=CLOSE_TIMEOUT_S)
    for writer, wait in zip(open_writers, waits, strict=True):
        if not wait.done():
            wait.cancel()
            writer.transport.abort()
        elif not wait.cancelled():
            wait.exception()  # retrieved: a reset while closing is no news


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)
