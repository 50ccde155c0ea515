"""The size rules of issue 11, checked by scripts/check: no Python module over 500 lines and no
class with more than 25 public methods, outside generated code.

Run by scripts/check; `python scripts/house_rules.py` prints each breach and exits 1 if any.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("services", "gateway", "tests", "bench", "scripts")
SKIPPED = ("services/common/generated/", "services/common/db/migrations/versions/")
MAX_LINES = 500
MAX_PUBLIC_METHODS = 25


def _modules(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if not relative.startswith(SKIPPED):
                found.append(path)
    return found


def _public_methods(node: ast.ClassDef) -> int:
    return sum(
        1
        for item in node.body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        and not item.name.startswith("_")
    )


def breaches(root: Path = ROOT) -> list[str]:
    """Every module and class under `root` that breaks a rule, as `path: what` lines."""
    found: list[str] = []
    for path in _modules(root):
        relative = path.relative_to(root).as_posix()
        text = path.read_text()
        lines = text.count("\n")
        if lines > MAX_LINES:
            found.append(f"{relative}: {lines} lines (at most {MAX_LINES})")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                count = _public_methods(node)
                if count > MAX_PUBLIC_METHODS:
                    found.append(
                        f"{relative}: class {node.name} has {count} public methods "
                        f"(at most {MAX_PUBLIC_METHODS})"
                    )
    return found


def main() -> int:
    found = breaches()
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
