"""The route model: which public host name reaches which pod port, and whether it may.

Pure data and functions. The route keeper (gateway/route_keeper.py) builds the table from the
database and pod events; gateway/pods_listener.py renders it into Envoy's TLS listener and
clusters; gateway/starttls_router.py looks names up in it for classic PostgreSQL clients.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from services.common.stanza_options import StanzaOptions

# A DNS name of lowercase labels; the pod part is validated by the API (lowercase alnum).
HOST_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$"
)
ROUTED_PROTOCOLS = frozenset({"http", "tcp", "postgres"})


class RouteError(ValueError):
    """A route that must not be published; the message says why."""


@dataclass(frozen=True, order=True)
class PodRoute:
    """One public name of one pod port."""

    host: str  # e.g. docpod.pods.example.org
    protocol: str  # http | tcp | postgres
    tenant_id: str
    pod_id: str
    stanza: str  # networking stanza name
    status: str  # the pod's status; only AVAILABLE routes carry traffic
    upstream_host: str  # where the pod's port is reachable from the gateway
    upstream_port: int  # 0 while the pod has no reachable port
    tapis_auth: bool = False  # http only: behind a login (gateway/pod_login.py)
    # Who may connect and CORS (gateway/pod_policies.py).
    options: StanzaOptions = field(default_factory=StanzaOptions)

    @property
    def serving(self) -> bool:
        """True when traffic may flow to the pod."""
        return self.status == "AVAILABLE" and self.upstream_port > 0

    @property
    def cluster_name(self) -> str:
        """Envoy cluster name, unique per route (hosts are unique)."""
        return "pod_" + self.host.replace(".", "_").replace("-", "_")


def validate(route: PodRoute) -> PodRoute:
    """The route if it is safe to publish, else RouteError naming the problem."""
    if not HOST_RE.fullmatch(route.host):
        raise RouteError(f"host {route.host[:80]!r} is not a valid DNS name")
    if route.protocol not in ROUTED_PROTOCOLS:
        raise RouteError(f"protocol {route.protocol!r} of {route.host} is not routable")
    if not 0 <= route.upstream_port <= 65535:
        raise RouteError(f"port {route.upstream_port} of {route.host} is out of range")
    if route.upstream_port and not route.upstream_host:
        raise RouteError(f"{route.host} has a port but no upstream host")
    return route


@dataclass(frozen=True)
class RouteTable:
    """Every publishable route, by host. Built with `RouteTable.build`, which drops (and
    reports) invalid or conflicting routes instead of failing the whole table."""

    routes: Mapping[str, PodRoute]
    rejected: tuple[str, ...] = ()

    @classmethod
    def build(cls, candidates: Iterable[PodRoute]) -> RouteTable:
        routes: dict[str, PodRoute] = {}
        rejected: list[str] = []
        for route in sorted(candidates):
            try:
                validate(route)
            except RouteError as exc:
                rejected.append(str(exc))
                continue
            if route.host in routes:
                rejected.append(f"{route.host} is claimed twice; keeping the first")
                continue
            routes[route.host] = route
        return cls(routes=routes, rejected=tuple(rejected))

    def lookup(self, host: str) -> PodRoute | None:
        """The route for a host name (case-insensitive, trailing dot ignored)."""
        return self.routes.get(host.lower().rstrip("."))

    def of_protocol(self, protocol: str) -> list[PodRoute]:
        return [r for r in self.routes.values() if r.protocol == protocol]
