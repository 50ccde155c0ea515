"""Renders a RouteTable into the text of the LDS, CDS and RDS files, re-rendering only the
routes that changed since the previous call.

Used by gateway/xds_files.py's `Publisher` (the route keeper holds one for its whole life, so
a refresh after one pod's change renders one virtual host or filter chain and one cluster;
one-off callers get a fresh one). Each route's filter chain (if it has its own), virtual host
on the shared HTTP chain (gateway/pods_http.py) and cluster are rendered once as compact JSON
and kept with their sha256 and the clusters they refer to, keyed by the route (a frozen value:
any change of status, port or options is a new key). The files are those fragments joined, in
host order, around each file's fixed part; their version is a hash of the fragments' digests,
so equal content gives an equal version. A plain HTTP pod has no chain of its own, so its
change leaves the LDS text, and its version, as they were.

Compact JSON (not indented) is what Envoy reads fastest: the files are named `.json`, which
Envoy parses with its JSON parser rather than YAML's (about half the CPU at 1,000 routes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gateway.hardening import JsonObject
from gateway.pods_http import (
    ROUTE_CONFIG,
    ROUTE_CONFIG_TYPE,
    catch_all_virtual_host,
    route_config_shell,
    shared_virtual_host,
)
from gateway.pods_listener import (
    CLUSTER_TYPE,
    LISTENER_TYPE,
    PODS_LISTENER,
    PodsListenerOptions,
    base_clusters,
    fixed_chains,
    handoff_listener,
    has_own_cluster,
    listener_shell,
    pod_chain,
    pod_cluster,
)
from gateway.routes import PodRoute, RouteError, RouteTable, validate


class SnapshotError(ValueError):
    """A snapshot that must not be published; the message says why."""


@dataclass(frozen=True)
class Fragment:
    """One rendered resource: its compact JSON, digest, and the clusters it refers to."""

    name: str
    text: str
    digest: bytes
    clusters: frozenset[str] = frozenset()

    @classmethod
    def of(cls, resource: JsonObject) -> Fragment:
        text = compact(resource)
        return cls(
            name=str(resource["name"]),
            text=text,
            digest=hashlib.sha256(text.encode()).digest(),
            clusters=frozenset(referenced(resource)),
        )


@dataclass(frozen=True)
class _Rendered:
    """A route and its fragments (None: the route has no chain, virtual host or cluster)."""

    route: PodRoute
    chain: Fragment | None
    cluster: Fragment | None
    vhost: Fragment | None = None


@dataclass(frozen=True)
class SnapshotText:
    """The files' content and versions (no RDS file, "", without a shared HTTP chain)."""

    cds: str
    lds: str
    cds_version: str
    lds_version: str
    rds: str = ""
    rds_version: str = ""


def compact(resource: Mapping[str, object] | Sequence[object]) -> str:
    return json.dumps(resource, separators=(",", ":"))


def referenced(node: object) -> Iterable[str]:
    """Every `cluster` value inside a resource (tcp_proxy filters and HTTP routes)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "cluster" and isinstance(value, str):
                yield value
            else:
                yield from referenced(value)
    elif isinstance(node, list):
        for item in node:
            yield from referenced(item)


class SnapshotRenderer:
    """Renders tables for one set of listener options, keeping the previous call's fragments."""

    def __init__(self, options: PodsListenerOptions) -> None:
        self.options = options
        self._cache: dict[str, _Rendered] = {}  # by host
        self._fixed: _Fixed | None = None

    def render(self, table: RouteTable) -> SnapshotText:
        """The files of `table`; SnapshotError if a route is invalid or misfiled, or a chain
        refers to a cluster that is not published. Only new routes are rendered."""
        check_filed(table)
        chains, clusters, vhosts = self._fragments(table)
        fixed = self._fixed_parts()
        extra = [
            Fragment.of(cluster)
            for cluster in base_clusters(table, self.options)[len(fixed.clusters) :]
        ]
        cluster_fragments = [*fixed.clusters, *extra, *clusters]
        chain_fragments = [*chains, *fixed.chains]
        _check_references([*chain_fragments, *vhosts], cluster_fragments)
        shell = fixed.listener_shell
        lds_body = shell[:-1] + ',"filter_chains":[' + _joined(chain_fragments) + "]}"
        listener_parts = [shell.encode(), *(f.digest for f in chain_fragments)]
        handoff = handoff_listener(table, self.options)  # a few chains: postgres routes only
        if handoff is not None:
            handoff_text = compact(handoff)
            lds_body += "," + handoff_text
            listener_parts.append(handoff_text.encode())
        lds_version = _version(listener_parts)
        cds_version = _version([f.digest for f in cluster_fragments])
        rds = rds_version = ""
        if fixed.routes_shell:
            vhost_fragments = [*vhosts, fixed.catch_all]
            rds_version = _version(
                [fixed.routes_shell.encode(), *(f.digest for f in vhost_fragments)]
            )
            rds_body = (
                fixed.routes_shell[:-1] + ',"virtual_hosts":[' + _joined(vhost_fragments) + "]}"
            )
            rds = _discovery_text(rds_version, ROUTE_CONFIG_TYPE, rds_body)
        return SnapshotText(
            cds=_discovery_text(cds_version, CLUSTER_TYPE, _joined(cluster_fragments)),
            lds=_discovery_text(lds_version, LISTENER_TYPE, lds_body),
            cds_version=cds_version,
            lds_version=lds_version,
            rds=rds,
            rds_version=rds_version,
        )

    def _fragments(self, table: RouteTable) -> tuple[list[Fragment], ...]:
        """The chains, clusters and shared virtual hosts of `table`'s routes in host order,
        from the cache where the route is unchanged; the cache then holds exactly these
        routes."""
        fresh: dict[str, _Rendered] = {}
        chains: list[Fragment] = []
        clusters: list[Fragment] = []
        vhosts: list[Fragment] = []
        for host in sorted(table.routes):
            route = table.routes[host]
            cached = self._cache.get(host)
            rendered = cached if cached is not None and cached.route == route else None
            if rendered is None:
                rendered = _Rendered(
                    route, self._chain(route), self._cluster(route), self._vhost(route)
                )
            fresh[host] = rendered
            if rendered.chain is not None:
                chains.append(rendered.chain)
            if rendered.cluster is not None:
                clusters.append(rendered.cluster)
            if rendered.vhost is not None:
                vhosts.append(rendered.vhost)
        self._cache = fresh  # routes that are gone are forgotten
        return chains, clusters, vhosts

    def _chain(self, route: PodRoute) -> Fragment | None:
        try:
            validate(route)
        except RouteError as exc:
            raise SnapshotError(f"invalid route: {exc}") from exc
        chain = pod_chain(route, self.options)
        return Fragment.of(chain) if chain is not None else None

    def _cluster(self, route: PodRoute) -> Fragment | None:
        own = has_own_cluster(route, self.options)
        return Fragment.of(pod_cluster(route, self.options)) if own else None

    def _vhost(self, route: PodRoute) -> Fragment | None:
        if not self.options.pod_domain:
            return None
        vhost = shared_virtual_host(route, self.options.pod_domain)
        return Fragment.of(vhost) if vhost is not None else None

    def _fixed_parts(self) -> _Fixed:
        if self._fixed is None:
            shared = bool(self.options.pod_domain)
            self._fixed = _Fixed(
                listener_shell=compact(listener_shell(self.options)),
                clusters=tuple(Fragment.of(c) for c in base_clusters(RouteTable({}), self.options)),
                chains=tuple(Fragment.of(c) for c in fixed_chains(self.options)),
                routes_shell=(
                    compact({"@type": ROUTE_CONFIG_TYPE, **route_config_shell(ROUTE_CONFIG)})
                    if shared
                    else ""
                ),
                catch_all=Fragment.of(catch_all_virtual_host()),
            )
        return self._fixed


@dataclass(frozen=True)
class _Fixed:
    """The parts of the files that do not depend on the routes, rendered once."""

    listener_shell: str
    clusters: tuple[Fragment, ...]
    chains: tuple[Fragment, ...]  # after the routes' own chains
    routes_shell: str  # "" without a shared HTTP chain
    catch_all: Fragment


def check_filed(table: RouteTable) -> None:
    """SnapshotError unless every route is filed under its own host."""
    for host, route in table.routes.items():
        if host != route.host:
            raise SnapshotError(f"route of {route.host} is filed under {host!r}")


def _check_references(users: list[Fragment], clusters: list[Fragment]) -> None:
    published = {fragment.name for fragment in clusters}
    if len(published) != len(clusters):
        raise SnapshotError("cluster names repeat")
    missing = sorted({name for user in users for name in user.clusters} - published)
    if missing:
        raise SnapshotError(f"listener {PODS_LISTENER} uses undefined clusters {missing}")


def _joined(fragments: Iterable[Fragment]) -> str:
    return ",".join(fragment.text for fragment in fragments)


def _version(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()[:16]


def _discovery_text(version: str, type_url: str, resources: str) -> str:
    """The file form of an xDS response, version first (so it can be read cheaply)."""
    return f'{{"version_info":"{version}","type_url":"{type_url}","resources":[{resources}]}}\n'
