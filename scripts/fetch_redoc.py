"""Fetches Redoc's standalone bundle for the services image (deploy/Dockerfile), so /docs/
renders on a cluster as it does locally.

Locally scripts/setup installs npm's `redoc` with `npm ci` from scripts/tools/package-lock.json.
The image has no Node.js, so this script takes the same package the same way npm does: the
version the lock names, as a tarball from the npm registry (or a mirror of it), refused unless
its SHA-512 matches the lock's `integrity`. Only `bundles/redoc.standalone.js` is kept, written
where gateway/api_docs.py looks for it, with the licence notices of what it bundles beside it
(`redoc.standalone.js.LICENSE.txt`). Standard library only.

Usage: python scripts/fetch_redoc.py [--registry URL] PACKAGE_LOCK DESTINATION
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

PACKAGE = "redoc"
BUNDLE = "package/bundles/redoc.standalone.js"  # inside npm's tarball
NOTICES = ".LICENSE.txt"  # the bundle's name + this: the licences of what it bundles
DEFAULT_REGISTRY = "https://registry.npmjs.org"


class FetchError(Exception):
    """The lock names no usable redoc, or the tarball is not the one it names."""


def locked(package_lock: Path) -> tuple[str, str]:
    """The version and `sha512-...` integrity of redoc in an npm lock file (lockfileVersion 2+)."""
    entry = json.loads(package_lock.read_text())["packages"].get(f"node_modules/{PACKAGE}")
    if not entry or not str(entry.get("integrity", "")).startswith("sha512-"):
        raise FetchError(f"{package_lock} locks no {PACKAGE} with a sha512 integrity")
    return str(entry["version"]), str(entry["integrity"])


def tarball_url(registry: str, version: str) -> str:
    return f"{registry.rstrip('/')}/{PACKAGE}/-/{PACKAGE}-{version}.tgz"


def verified(data: bytes, integrity: str) -> bytes:
    """`data` when its SHA-512 is the lock's; FetchError otherwise."""
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if f"sha512-{digest}" != integrity:
        raise FetchError(f"the {PACKAGE} tarball does not match the lock's integrity")
    return data


def member_of(tarball: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        try:
            member = archive.extractfile(name)
        except KeyError:
            member = None
        if member is None:
            raise FetchError(f"{name} is not a file in the {PACKAGE} tarball")
        return member.read()


def fetch(package_lock: Path, destination: Path, registry: str = DEFAULT_REGISTRY) -> str:
    """Writes the locked redoc's standalone bundle to `destination`; returns its version."""
    version, integrity = locked(package_lock)
    with urllib.request.urlopen(tarball_url(registry, version), timeout=120) as response:  # noqa: S310 - the registry is an https (or, in tests, file) URL
        tarball = verified(response.read(), integrity)
    files = {
        destination: member_of(tarball, BUNDLE),
        destination.with_name(destination.name + NOTICES): member_of(tarball, BUNDLE + NOTICES),
    }
    destination.parent.mkdir(parents=True, exist_ok=True)
    for path, content in files.items():
        path.write_bytes(content)
        path.chmod(0o644)
    return version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fetches the locked Redoc bundle.")
    parser.add_argument("--registry", default=DEFAULT_REGISTRY)
    parser.add_argument("package_lock", type=Path)
    parser.add_argument("destination", type=Path)
    args = parser.parse_args(argv)
    try:
        version = fetch(args.package_lock, args.destination, args.registry)
    except (FetchError, OSError) as error:
        print(f"fetch_redoc: {error}", file=sys.stderr)
        return 1
    print(f"fetch_redoc: redoc {version} -> {args.destination}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
