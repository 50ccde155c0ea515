"""Secret files made on first use: the built-in identity's signing key (services/api/tokens.py)
and the login secret (services/api/login_wiring.py). Several processes may start at once: the
first writer wins and every one reads what it wrote."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def load_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The contents of `path`, written first (`make()`, file mode 0600) if it does not exist."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(make())
    try:
        os.link(tmp, path)  # first writer wins; others read its contents
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_bytes()
