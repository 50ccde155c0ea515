"""Publishes the pods listener and clusters as the LDS/CDS files Envoy watches.

Called by `python -m gateway` (an empty snapshot before Envoy starts, so the pods listener
exists from the first moment), by the route keeper (gateway/route_keeper.py) on every route
change, by the cluster gateway's preparation (gateway/cluster.py), and by the tests.
`publish` renders a RouteTable with gateway/pods_listener.py and writes `cds.json`, then
`rds.json` (the shared HTTP chain's routes, gateway/pods_http.py), then `lds.json`, each
atomically (a temporary file renamed into place: Envoy reloads on the rename and never reads
half a file), and only the files whose version changed: a plain HTTP pod's change rewrites
CDS and RDS only, so Envoy does not touch the listener. Before writing it
checks every route and the structure of the snapshot (unique chains and clusters, every
referenced cluster present); a snapshot that fails is not published, the previous files stay
and the reason is logged and returned. Writers in several processes take turns (a lock file),
so CDS and LDS always come from the same snapshot.

`validate_with_envoy` checks a snapshot (or the published files) fully with
`envoy --mode validate`; it takes about a second, so it is for tests and for
`python -m gateway.xds_files [DIR]`, not for every update.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

from gateway.certs import tls_files
from gateway.envoy_binary import EnvoyConfigError, find_envoy, validate_config
from gateway.envoy_config import CDS_FILE, LDS_FILE, RDS_FILE, bootstrap
from gateway.hardening import JsonObject
from gateway.pods_listener import (
    PodsListenerOptions,
    Snapshot,
)
from gateway.routes import RouteTable
from gateway.xds_text import SnapshotError as SnapshotError  # raised here, tested as ours
from gateway.xds_text import SnapshotRenderer, referenced
from services.common.settings import Settings, SettingsError

log = logging.getLogger(__name__)

LOCK_FILE = ".publish.lock"


@dataclass(frozen=True)
class PublishResult:
    """What `publish` did: `changed` lists the files rewritten (none when the content was
    already there); `rejected` says why nothing was published. `version` is
    "<cds>.<rds>.<lds>" (the RDS part empty without a shared HTTP chain)."""

    version: str = ""
    changed: tuple[str, ...] = ()
    rejected: str = ""

    @property
    def published(self) -> bool:
        return not self.rejected


# --- where the files live ------------------------------------------------------------------------


def xds_directory(data_dir: Path) -> Path:
    """The directory Envoy watches: `<data_dir>/gateway/xds`."""
    return (data_dir / "gateway" / "xds").resolve()


def tls_directory(data_dir: Path) -> Path:
    """Where the development CA and the pods certificate live: `<data_dir>/gateway/tls`."""
    return (data_dir / "gateway" / "tls").resolve()


def local_options(settings: Settings, *, bind_address: str = "127.0.0.1") -> PodsListenerOptions:
    """The local stack's pods listener options; creates the development certificate if the
    operator gave none. The gateway and the pod router must agree on `bind_address`."""
    tls = tls_files(
        tls_directory(settings.data_dir),
        settings.pod_domain,
        settings.tls_cert_file,
        settings.tls_key_file,
    )
    return PodsListenerOptions.from_settings(settings, tls, bind_address=bind_address)


# --- rendering and checking ----------------------------------------------------------------------


def render(config: Mapping[str, object]) -> str:
    """JSON text (which Envoy reads as YAML), stable for equal content."""
    return json.dumps(config, indent=2, sort_keys=False) + "\n"


def discovery_response(resources: Sequence[JsonObject], type_url: str) -> JsonObject:
    """The file form of an xDS response; the version is a hash of the resources."""
    digest = hashlib.sha256(json.dumps(resources, sort_keys=True).encode()).hexdigest()
    return {"version_info": digest[:16], "type_url": type_url, "resources": list(resources)}


def check_snapshot(snapshot: Snapshot) -> None:
    """Raises SnapshotError unless names are unique and every referenced cluster exists."""
    clusters = [str(cluster["name"]) for cluster in snapshot.clusters]
    _no_duplicates("cluster", clusters)
    for routes in snapshot.routes:
        hosts = routes.get("virtual_hosts")
        if not isinstance(hosts, list):
            raise SnapshotError(f"route configuration {routes['name']} has no virtual hosts")
        _no_duplicates("virtual host", [str(vhost["name"]) for vhost in hosts])
        missing = sorted(set(referenced(routes)) - set(clusters))
        if missing:
            raise SnapshotError(f"routes {routes['name']} use undefined clusters {missing}")
    _no_duplicates("listener", [str(listener["name"]) for listener in snapshot.listeners])
    for listener in snapshot.listeners:
        chains = listener.get("filter_chains")
        if not isinstance(chains, list) or not chains:
            raise SnapshotError(f"listener {listener['name']} has no filter chains")
        _no_duplicates("filter chain", [str(chain["name"]) for chain in chains])
        matches = [json.dumps(chain.get("filter_chain_match"), sort_keys=True) for chain in chains]
        _no_duplicates("filter chain match", matches)
        missing = sorted(set(referenced(listener)) - set(clusters))
        if missing:
            raise SnapshotError(f"listener {listener['name']} uses undefined clusters {missing}")


def _no_duplicates(what: str, names: Sequence[str]) -> None:
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise SnapshotError(f"{what} names repeat: {repeated}")


# --- publishing ----------------------------------------------------------------------------------


class Publisher:
    """Publishes route tables into `directory`, rendering only the routes that changed since
    its previous publication (gateway/xds_text.py). The route keeper holds one for its life;
    `publish` makes a fresh one."""

    def __init__(self, directory: Path, options: PodsListenerOptions) -> None:
        self.directory = directory
        rds_path = directory.resolve() / RDS_FILE
        if options.pod_domain and not options.rds_path:
            options = replace(options, rds_path=str(rds_path))
        elif options.rds_path and Path(options.rds_path).resolve() != rds_path:
            # The listener would name a file nobody writes: Envoy would never see the routes.
            raise ValueError(f"the listener's route file {options.rds_path} is not {rds_path}")
        self._renderer = SnapshotRenderer(options)

    def publish(self, table: RouteTable) -> PublishResult:
        """Writes the snapshot of `table` unless it fails a check (then the previous files
        stay). CDS is written first, so clusters exist when routes use them, then RDS, then
        LDS; a file whose version is already there is not touched."""
        try:
            text = self._renderer.render(table)
        except ValueError as exc:  # SnapshotError, or a value the builders refuse
            log.error(
                "not publishing routes to %s, keeping the previous files: %s", self.directory, exc
            )
            return PublishResult(rejected=str(exc))
        changed: list[str] = []
        self.directory.mkdir(parents=True, exist_ok=True)
        with _publish_lock(self.directory):
            for name, version, content in (
                (CDS_FILE, text.cds_version, text.cds),
                (RDS_FILE, text.rds_version, text.rds),
                (LDS_FILE, text.lds_version, text.lds),
            ):
                if not content:
                    continue
                path = self.directory / name
                if published_version(path) != version:
                    write_atomically(path, content)
                    changed.append(name)
        version = f"{text.cds_version}.{text.rds_version}.{text.lds_version}"
        if changed:
            log.info(
                "published %d routes to %s, version %s", len(table.routes), self.directory, version
            )
        return PublishResult(version=version, changed=tuple(changed))


def publish(directory: Path, table: RouteTable, options: PodsListenerOptions) -> PublishResult:
    """Writes the snapshot of `table` into `directory` (see `Publisher.publish`)."""
    return Publisher(directory, options).publish(table)


def published_version(path: Path) -> str | None:
    """The version_info of a file this module wrote (it comes first), None if there is none."""
    try:
        with path.open("rb") as handle:
            head = handle.read(96)
    except FileNotFoundError:
        return None
    match = _VERSION_HEAD.match(head)
    return match.group(1).decode() if match else None


_VERSION_HEAD = re.compile(rb'\{"version_info":"([0-9a-f]+)"')


def write_atomically(path: Path, text: str) -> None:
    """Replaces `path` with `text` in one rename, so readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(0o644)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


@contextmanager
def _publish_lock(directory: Path) -> Iterator[None]:
    with (directory / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- full validation by Envoy --------------------------------------------------------------------


def validate_with_envoy(snapshot: Snapshot, envoy: Path | None = None) -> None:
    """Runs `envoy --mode validate` on a bootstrap holding `snapshot` as static resources.

    Raises EnvoyConfigError with Envoy's message when it rejects anything (unknown fields,
    unreadable certificate, conflicting filter chains, ...).
    """
    routes = {str(config["name"]): _untyped(config) for config in snapshot.routes}
    config = bootstrap(
        admin_port=None,
        listeners=[_inlined(_untyped(listener), routes) for listener in snapshot.listeners],
        clusters=[_untyped(cluster) for cluster in snapshot.clusters],
    )
    with tempfile.TemporaryDirectory(prefix="pods-xds-check-") as tmp:
        path = Path(tmp) / "envoy.yaml"
        path.write_text(render(config), encoding="utf-8")
        validate_config(envoy or find_envoy(), path)


def read_published(directory: Path) -> Snapshot:
    """The snapshot in `directory`'s files (raises OSError or ValueError if unreadable)."""

    def resources(name: str) -> tuple[JsonObject, ...]:
        content = json.loads((directory / name).read_text(encoding="utf-8"))
        items = content.get("resources") if isinstance(content, dict) else None
        if not isinstance(items, list):
            raise ValueError(f"{directory / name} holds no resources list")
        return tuple(items)

    routes = resources(RDS_FILE) if (directory / RDS_FILE).exists() else ()
    return Snapshot(listeners=resources(LDS_FILE), clusters=resources(CDS_FILE), routes=routes)


def _inlined(node: JsonObject, routes: Mapping[str, JsonObject]) -> JsonObject:
    """`node` with every `rds` source whose routes are in `routes` replaced by them inline
    (a static bootstrap cannot name files for validation to read)."""

    def walk(value: object) -> object:
        if isinstance(value, list):
            return [walk(item) for item in value]
        if not isinstance(value, dict):
            return value
        rds = value.get("rds")
        if isinstance(rds, dict) and rds.get("route_config_name") in routes:
            inline = {k: walk(v) for k, v in value.items() if k != "rds"}
            inline["route_config"] = routes[str(rds["route_config_name"])]
            return inline
        return {key: walk(item) for key, item in value.items()}

    return cast(JsonObject, walk(node))


def _untyped(resource: JsonObject) -> JsonObject:
    """A resource without its `@type` (a bootstrap's static resources carry none)."""
    return {key: value for key, value in resource.items() if key != "@type"}


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m gateway.xds_files [DIR]`: checks the published files with Envoy."""
    parser = argparse.ArgumentParser(
        prog="python -m gateway.xds_files",
        description="Validate the published pods listener and clusters with envoy --mode validate.",
    )
    parser.add_argument("directory", nargs="?", type=Path, help="default: <data_dir>/gateway/xds")
    args = parser.parse_args(argv)
    try:
        directory = args.directory or xds_directory(Settings.from_env().data_dir)
        validate_with_envoy(read_published(directory))
    except (SettingsError, EnvoyConfigError, ValueError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"xds_files: {exc}", file=sys.stderr)
        return 2
    print(f"xds_files: {directory} is valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
