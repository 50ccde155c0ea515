"""The services image renders /docs/ with Redoc like a checkout does: deploy/Dockerfile runs
scripts/fetch_redoc.py, which takes the redoc that scripts/tools/package-lock.json locks from an
npm registry (here a directory laid out like one) only when it matches the lock's integrity,
and puts its bundle where gateway/api_docs.py looks for it."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import re
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

from gateway.api_docs import DOCS_PAGE, REDOC_SOURCE, prepare_docs

from .render import REPO
from .test_dockerfile import instructions

LOCK = REPO / "scripts" / "tools" / "package-lock.json"
BUNDLE_TEXT = b"/* a stand-in for redoc.standalone.js */\n"
NOTICES_TEXT = b"MIT licences of what the bundle holds\n"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "fetch_redoc", REPO / "scripts" / "fetch_redoc.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fetch_redoc = load_script()


def npm_tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def registry_with(tmp_path: Path, version: str, tarball: bytes) -> str:
    """A directory laid out like the npm registry's tarball paths, as a file: URL."""
    path = tmp_path / "registry" / "redoc" / "-" / f"redoc-{version}.tgz"
    path.parent.mkdir(parents=True)
    path.write_bytes(tarball)
    return (tmp_path / "registry").as_uri()


def lock_with(tmp_path: Path, version: str, checksum: str) -> Path:
    lock = tmp_path / "package-lock.json"
    entry = {"version": version, "integrity": checksum}
    lock.write_text(json.dumps({"lockfileVersion": 3, "packages": {"node_modules/redoc": entry}}))
    return lock


@pytest.fixture
def tarball() -> bytes:
    return npm_tarball(
        {
            "package/package.json": b"{}",
            "package/bundles/redoc.standalone.js": BUNDLE_TEXT,
            "package/bundles/redoc.standalone.js.LICENSE.txt": NOTICES_TEXT,
        }
    )


def test_the_locked_bundle_and_its_notices_are_written(tmp_path: Path, tarball: bytes) -> None:
    registry = registry_with(tmp_path, "2.5.4", tarball)
    destination = tmp_path / "app" / "bundles" / "redoc.standalone.js"
    version = fetch_redoc.fetch(
        lock_with(tmp_path, "2.5.4", integrity(tarball)), destination, registry
    )
    assert version == "2.5.4"
    assert destination.read_bytes() == BUNDLE_TEXT
    assert (destination.parent / "redoc.standalone.js.LICENSE.txt").read_bytes() == NOTICES_TEXT
    # The gateway then serves the Redoc page, not the pointer to openapi.json.
    docs = prepare_docs(tmp_path / "docs", redoc=destination)
    assert docs.redoc is not None and docs.redoc.read_bytes() == BUNDLE_TEXT
    assert "<redoc spec-url" in docs.page.read_text()
    assert "<redoc spec-url" in DOCS_PAGE


def test_a_tarball_that_is_not_the_locked_one_is_refused(tmp_path: Path, tarball: bytes) -> None:
    registry = registry_with(tmp_path, "2.5.4", tarball)
    other = integrity(tarball + b"changed")
    destination = tmp_path / "app" / "redoc.standalone.js"
    status = fetch_redoc.main(
        ["--registry", registry, str(lock_with(tmp_path, "2.5.4", other)), str(destination)]
    )
    assert status == 1
    assert not destination.exists()


def test_a_tarball_without_the_bundle_is_refused(tmp_path: Path) -> None:
    tarball = npm_tarball({"package/package.json": b"{}"})
    registry = registry_with(tmp_path, "2.5.4", tarball)
    destination = tmp_path / "app" / "redoc.standalone.js"
    with pytest.raises(fetch_redoc.FetchError, match="not a file"):
        fetch_redoc.fetch(lock_with(tmp_path, "2.5.4", integrity(tarball)), destination, registry)
    assert not destination.exists()


def test_the_project_lock_names_redoc_with_an_integrity_hash() -> None:
    version, checksum = fetch_redoc.locked(LOCK)
    package = json.loads((REPO / "scripts" / "tools" / "package.json").read_text())
    assert package["dependencies"]["redoc"] == version
    assert checksum.startswith("sha512-")


def test_the_image_puts_the_bundle_where_the_gateway_looks() -> None:
    steps = instructions()
    workdir = Path(dict(steps)["WORKDIR"])
    fetches = [args for op, args in steps if op == "RUN" and "fetch_redoc.py" in args]
    assert len(fetches) == 1
    destination = re.search(r"package-lock\.json\s+(\S+)", fetches[0])
    assert destination is not None
    assert Path(destination.group(1)) == workdir / REDOC_SOURCE.relative_to(REPO)
    # and the build fails where it is missing
    assert any("REDOC_SOURCE.is_file()" in args for op, args in steps if op == "RUN")
