"""Pages of listings: page size bounds and opaque page tokens.

Called by domain/volumes.py for ListVolumeFiles and ListSnapshotFiles, and by domain/pods.py
for ListPods (`pod_page`). A listing is sorted by a key (a file's path, a pod's id), so a
page is "the next `size` entries after the last key seen"; the token that asks for the next
page carries that key (URL-safe base64 of a small JSON document naming its scheme, opaque to
clients; a file token is no pod token). Entries added or removed between two calls neither
repeat nor shift what follows.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from services.api.errors import InvalidArgumentError
from services.common.storage.types import FileEntry

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 10000
_TOKEN_SCHEME = "files-v1"  # noqa: S105 (names the token format; no secret)
POD_TOKEN_SCHEME = "pods-v1"  # noqa: S105 (names the token format; no secret)
MAX_TOKEN_LENGTH = 8192
# ListPods: Tapis answers every pod at once, so no page size means no paging (AIP-158 would
# have the server choose a page size); a token without a size continues with pages of 100.
DEFAULT_POD_PAGE_SIZE = 100
MAX_POD_PAGE_SIZE = 1000


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


@dataclass(frozen=True)
class PodPage:
    """What one ListPods call asks for: at most `limit` pods (None: all of them) whose
    ids sort after `after` ("" from the first)."""

    limit: int | None
    after: str


def pod_page(size: int, token: str, valid_key: Callable[[str], bool]) -> PodPage:
    """The page a ListPods request asks for; InvalidArgumentError naming page_size (not
    0..MAX_POD_PAGE_SIZE) or page_token (not one of ours, or not carrying a valid pod id)."""
    if not 0 <= size <= MAX_POD_PAGE_SIZE:
        raise InvalidArgumentError(
            "page_size", f"must be between 1 and {MAX_POD_PAGE_SIZE} (0 or absent: every pod)"
        )
    after = after_of(token, POD_TOKEN_SCHEME)
    if token and not valid_key(after):
        raise InvalidArgumentError("page_token", _NOT_OURS)
    if size == 0 and not token:
        return PodPage(None, "")  # Tapis: no parameters, every pod at once
    return PodPage(size or DEFAULT_POD_PAGE_SIZE, after)


def token_after(path: str, scheme: str = _TOKEN_SCHEME) -> str:
    """The token asking for the entries after `path` (a pod id with POD_TOKEN_SCHEME)."""
    document = json.dumps({"s": scheme, "after": path}, separators=(",", ":"))
    return base64.urlsafe_b64encode(document.encode()).decode().rstrip("=")


_NOT_OURS = "is not a token this API gave out (pass next_page_token as it came)"


def after_of(token: str, scheme: str = _TOKEN_SCHEME) -> str:
    """The key a token continues after ("" for no token); InvalidArgumentError naming
    page_token for anything this API did not give out for this kind of listing."""
    if not token:
        return ""
    bad = InvalidArgumentError("page_token", _NOT_OURS)
    if len(token) > MAX_TOKEN_LENGTH:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        document = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(document, dict) or document.get("s") != scheme:
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
