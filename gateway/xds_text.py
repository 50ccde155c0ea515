"""Renders a RouteTable into the text of the LDS and CDS files, re-rendering only the routes
that changed since the previous call.

Used by gateway/xds_files.py's `Publisher` (the route keeper holds one for its whole life, so
a refresh after one pod's change renders one filter chain and one cluster; one-off callers get
a fresh one). Each route's filter chain and cluster (gateway/pods_listener.py) are rendered
once as compact JSON and kept with their sha256 and the clusters the chain refers to, keyed by
the route (a frozen value: any change of status, port or options is a new key). The files are
those fragments joined, in host order, around the listener's fixed part; their version is a
hash of the fragments' digests, so equal content gives an equal version.

Compact JSON (not indented) is what Envoy reads fastest: the files are named `.json`, which
Envoy parses with its JSON parser rather than YAML's (about half the CPU at 1,000 routes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gateway.hardening import JsonObject
from gateway.pods_listener import (
    CLUSTER_TYPE,
    LISTENER_TYPE,
    PODS_LISTENER,
    PodsListenerOptions,
    base_clusters,
    handoff_listener,
    listener_shell,
    pod_chain,
    pod_cluster,
    starttls_chain,
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
    """A route and its fragments (None: the route has no chain, or no cluster)."""

    route: PodRoute
    chain: Fragment | None
    cluster: Fragment | None


@dataclass(frozen=True)
class SnapshotText:
    """The two files' content and versions."""

    cds: str
    lds: str
    cds_version: str
    lds_version: str


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
        self._fixed: tuple[str, tuple[Fragment, ...], Fragment] | None = None

    def render(self, table: RouteTable) -> SnapshotText:
        """The files of `table`; SnapshotError if a route is invalid or misfiled, or a chain
        refers to a cluster that is not published. Only new routes are rendered."""
        check_filed(table)
        chains, clusters = self._fragments(table)
        shell, fixed_clusters, starttls = self._fixed_parts()
        extra = [
            Fragment.of(cluster)
            for cluster in base_clusters(table, self.options)[len(fixed_clusters) :]
        ]
        cluster_fragments = [*fixed_clusters, *extra, *clusters]
        chain_fragments = [*chains, starttls]
        _check_references(chain_fragments, cluster_fragments)
        lds_body = shell[:-1] + ',"filter_chains":[' + _joined(chain_fragments) + "]}"
        listener_parts = [shell.encode(), *(f.digest for f in chain_fragments)]
        handoff = handoff_listener(table, self.options)  # a few chains: postgres routes only
        if handoff is not None:
            handoff_text = compact(handoff)
            lds_body += "," + handoff_text
            listener_parts.append(handoff_text.encode())
        lds_version = _version(listener_parts)
        cds_version = _version([f.digest for f in cluster_fragments])
        return SnapshotText(
            cds=_discovery_text(cds_version, CLUSTER_TYPE, _joined(cluster_fragments)),
            lds=_discovery_text(lds_version, LISTENER_TYPE, lds_body),
            cds_version=cds_version,
            lds_version=lds_version,
        )

    def _fragments(self, table: RouteTable) -> tuple[list[Fragment], list[Fragment]]:
        """The chains and clusters of `table`'s routes in host order, from the cache where the
        route is unchanged; the cache then holds exactly these routes."""
        fresh: dict[str, _Rendered] = {}
        chains: list[Fragment] = []
        clusters: list[Fragment] = []
        for host in sorted(table.routes):
            route = table.routes[host]
            cached = self._cache.get(host)
            rendered = cached if cached is not None and cached.route == route else None
            if rendered is None:
                rendered = _Rendered(route, self._chain(route), self._cluster(route))
            fresh[host] = rendered
            if rendered.chain is not None:
                chains.append(rendered.chain)
            if rendered.cluster is not None:
                clusters.append(rendered.cluster)
        self._cache = fresh  # routes that are gone are forgotten
        return chains, clusters

    def _chain(self, route: PodRoute) -> Fragment | None:
        try:
            validate(route)
        except RouteError as exc:
            raise SnapshotError(f"invalid route: {exc}") from exc
        chain = pod_chain(route, self.options)
        return Fragment.of(chain) if chain is not None else None

    def _cluster(self, route: PodRoute) -> Fragment | None:
        return Fragment.of(pod_cluster(route, self.options)) if route.serving else None

    def _fixed_parts(self) -> tuple[str, tuple[Fragment, ...], Fragment]:
        if self._fixed is None:
            shell = compact(listener_shell(self.options))
            fixed = tuple(Fragment.of(c) for c in base_clusters(RouteTable({}), self.options))
            self._fixed = (shell, fixed, Fragment.of(starttls_chain(self.options)))
        return self._fixed


def check_filed(table: RouteTable) -> None:
    """SnapshotError unless every route is filed under its own host."""
    for host, route in table.routes.items():
        if host != route.host:
            raise SnapshotError(f"route of {route.host} is filed under {host!r}")


def _check_references(chains: list[Fragment], clusters: list[Fragment]) -> None:
    published = {fragment.name for fragment in clusters}
    if len(published) != len(clusters):
        raise SnapshotError("cluster names repeat")
    missing = sorted({name for chain in chains for name in chain.clusters} - published)
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
