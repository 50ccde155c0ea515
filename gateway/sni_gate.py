"""SNI decisions of the STARTTLS router, and the TLS server context that makes them.

`decide` says, from a route table and a client's SNI, whether a handshake goes on and to which
route (pure); `SniGate` owns the server context (the pods certificate, Envoy's ciphers, ALPN
`postgresql`) whose SNI callback asks `decide` with the table of that moment, and remembers
each session's decision. Called by the STARTTLS router (gateway/starttls_router.py).
"""

from __future__ import annotations

import enum
import logging
import ssl
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from gateway.certs import TlsFiles
from gateway.hardening import CIPHER_SUITES
from gateway.postgres_wire import ALPN_POSTGRESQL
from gateway.routes import PodRoute, RouteTable

logger = logging.getLogger(__name__)


class Refusal(enum.Enum):
    """Why a TLS handshake was refused."""

    NO_SNI = "no server name (SNI)"
    UNKNOWN_NAME = "no route for this name"
    NOT_POSTGRES = "the route is not a PostgreSQL route"
    NOT_SERVING = "the pod is not serving"
    # The router sees Envoy, not the client, so it cannot apply an ip_allow_list: such a
    # port takes direct TLS only (libpq's sslnegotiation=direct), where Envoy applies it.
    ALLOW_LIST = "the port has an ip_allow_list; connect with sslnegotiation=direct"
    NO_TABLE = "the route table is unavailable"


@dataclass(frozen=True)
class SniDecision:
    """Where a TLS client asking for `server_name` goes: `route`, or refused for `refusal`."""

    server_name: str | None
    route: PodRoute | None = None
    refusal: Refusal | None = None

    @property
    def alert(self) -> int | None:
        """The TLS alert that fails the handshake, or None to go on."""
        if self.route is not None:
            return None
        if self.refusal is Refusal.NO_TABLE:
            return ssl.ALERT_DESCRIPTION_INTERNAL_ERROR
        return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME


def decide(table: RouteTable, server_name: str | None) -> SniDecision:
    """The decision for a client that sent `server_name` (None: no SNI) given `table`."""
    if not server_name:
        return SniDecision(None, refusal=Refusal.NO_SNI)
    route = table.lookup(server_name)
    if route is None:
        return SniDecision(server_name, refusal=Refusal.UNKNOWN_NAME)
    if route.protocol != "postgres":
        return SniDecision(server_name, refusal=Refusal.NOT_POSTGRES)
    if not route.serving:
        return SniDecision(server_name, refusal=Refusal.NOT_SERVING)
    if route.options.ip_allow_list:
        return SniDecision(server_name, refusal=Refusal.ALLOW_LIST)
    return SniDecision(server_name, route=route)


def server_context(
    tls: TlsFiles, on_sni: Callable[[ssl.SSLObject, str | None, ssl.SSLContext], int | None]
) -> ssl.SSLContext:
    """The server-side TLS context: the pods certificate, TLS >= 1.2 with Envoy's cipher list
    (ECDHE with AEAD; TLS 1.3's suites are all AEAD), ALPN `postgresql`, no renegotiation or
    session tickets, and `on_sni` deciding each handshake."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(":".join(CIPHER_SUITES))
    context.options |= ssl.OP_NO_RENEGOTIATION | ssl.OP_NO_TICKET
    context.num_tickets = 0
    context.load_cert_chain(tls.cert, tls.key)
    context.set_alpn_protocols([ALPN_POSTGRESQL])
    context.sni_callback = on_sni
    return context


class SniGate:
    """Owns the TLS server context and remembers the SNI decision of each TLS session it
    creates, reading the route table through `routes` at every handshake."""

    def __init__(self, routes: Callable[[], RouteTable], tls: TlsFiles) -> None:
        self._routes = routes
        self._decisions: weakref.WeakKeyDictionary[ssl.SSLObject, SniDecision] = (
            weakref.WeakKeyDictionary()
        )
        self.context = server_context(tls, self._on_sni)

    def session(self) -> tuple[ssl.SSLObject, ssl.MemoryBIO, ssl.MemoryBIO]:
        """A new server-side TLS session over memory buffers: (session, incoming, outgoing)."""
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        return self.context.wrap_bio(incoming, outgoing, server_side=True), incoming, outgoing

    def take(self, session: ssl.SSLObject) -> SniDecision | None:
        """The decision made for `session` (None if its handshake never got that far)."""
        return self._decisions.pop(session, None)

    def decide(self, server_name: str | None) -> SniDecision:
        """The decision for `server_name` with the route table of this moment (never raises:
        a table that cannot be read is the NO_TABLE refusal)."""
        try:
            return decide(self._routes(), server_name)
        except Exception:  # in the SNI callback an exception would only print as "unraisable"
            logger.exception("route table lookup failed")
            return SniDecision(server_name, refusal=Refusal.NO_TABLE)

    def _on_sni(
        self, session: ssl.SSLObject, server_name: str | None, _context: ssl.SSLContext
    ) -> int | None:
        decision = self.decide(server_name)
        self._decisions[session] = decision
        return decision.alert
