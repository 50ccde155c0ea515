"""Fixtures of the deploy tests: the manifests tree with placeholder secrets, and each
overlay rendered (see render.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .render import OVERLAYS, Obj, prepared_tree, render


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepared_tree(tmp_path_factory.mktemp("deploy"))


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest, tree: Path) -> tuple[str, list[Obj]]:
    return request.param, render(tree / "overlays" / request.param)
