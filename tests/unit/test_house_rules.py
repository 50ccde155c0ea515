"""scripts/house_rules.py, which scripts/check runs: a module over 500 lines or a class with more
than 25 public methods is a breach, generated code is not looked at, and this tree has none."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _house_rules() -> ModuleType:
    spec = importlib.util.spec_from_file_location("house_rules", ROOT / "scripts/house_rules.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["house_rules"] = module
    spec.loader.exec_module(module)
    return module


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_module_over_500_lines_is_a_breach(tmp_path: Path) -> None:
    _write(tmp_path, "services/long.py", "x = 1\n" * 501)
    _write(tmp_path, "services/fine.py", "x = 1\n" * 500)
    assert _house_rules().breaches(tmp_path) == ["services/long.py: 501 lines (at most 500)"]


def test_a_class_with_26_public_methods_is_a_breach(tmp_path: Path) -> None:
    methods = "".join(f"    def m{i}(self) -> None: ...\n" for i in range(26))
    private = "".join(f"    def _p{i}(self) -> None: ...\n" for i in range(30))
    _write(tmp_path, "gateway/hub.py", f"class Hub:\n{methods}\n\nclass Ok:\n{private}")
    assert _house_rules().breaches(tmp_path) == [
        "gateway/hub.py: class Hub has 26 public methods (at most 25)"
    ]


def test_generated_code_is_not_looked_at(tmp_path: Path) -> None:
    _write(tmp_path, "services/common/generated/pods/v1/big_pb2.py", "x = 1\n" * 2000)
    assert _house_rules().breaches(tmp_path) == []


def test_this_tree_keeps_the_rules() -> None:
    assert _house_rules().breaches() == []
