"""Pages of file listings: page size bounds and opaque page tokens.

Called by domain/volumes.py for ListVolumeFiles and ListSnapshotFiles. A listing is sorted by
path, so a page is "the next `size` entries after the last path seen"; the token that asks for
the next page carries that path (URL-safe base64 of a small JSON document, opaque to
clients). Files added or removed between two calls neither repeat nor shift what follows.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Sequence
from dataclasses import dataclass

from services.api.errors import InvalidArgumentError
from services.common.storage.types import FileEntry

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 10000
_TOKEN_SCHEME = "files-v1"  # noqa: S105 (names the token format; no secret)
MAX_TOKEN_LENGTH = 8192


@dataclass(frozen=True)
class Page:
    """One page of entries, and the token of the next one ("" on the last page)."""

    entries: list[FileEntry]
    next_token: str


def page_size(requested: int) -> int:
    """The page size to use: DEFAULT_PAGE_SIZE for 0 (not given), else 1..MAX_PAGE_SIZE."""
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    if not 1 <= requested <= MAX_PAGE_SIZE:
        raise InvalidArgumentError(
            "page_size", f"must be between 1 and {MAX_PAGE_SIZE} (0 or absent: {DEFAULT_PAGE_SIZE})"
        )
    return requested


def token_after(path: str) -> str:
    """The token asking for the entries after `path`."""
    document = json.dumps({"s": _TOKEN_SCHEME, "after": path}, separators=(",", ":"))
    return base64.urlsafe_b64encode(document.encode()).decode().rstrip("=")


def after_of(token: str) -> str:
    """The path a token continues after ("" for no token); InvalidArgumentError naming
    page_token for anything this API did not give out."""
    if not token:
        return ""
    bad = InvalidArgumentError(
        "page_token", "is not a token this API gave out (pass next_page_token as it came)"
    )
    if len(token) > MAX_TOKEN_LENGTH:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        document = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(document, dict) or document.get("s") != _TOKEN_SCHEME:
        raise bad
    after = document.get("after")
    if not isinstance(after, str) or not after:
        raise bad
    return after


def page_of(entries: Sequence[FileEntry], size: int, after: str) -> Page:
    """The `size` entries (sorted by path) after the path `after`, and the next token."""
    paths = [entry.path for entry in entries]
    start = bisect.bisect_right(paths, after) if after else 0
    chosen = list(entries[start : start + size])
    more = start + size < len(entries)
    return Page(chosen, token_after(chosen[-1].path) if more and chosen else "")
