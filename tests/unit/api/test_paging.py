"""Paging of file listings (services/api/domain/paging.py): page sizes, tokens, and that the
pages of a listing add up to it exactly, also when files come and go between pages."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from services.api.domain.paging import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    after_of,
    page_of,
    page_size,
    token_after,
)
from services.api.errors import InvalidArgumentError
from services.common.storage.types import FileEntry

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def entries(*paths: str) -> list[FileEntry]:
    return [FileEntry(path=p, size=1, is_dir=False, mtime=WHEN) for p in sorted(paths)]


def test_page_size_defaults_and_bounds() -> None:
    assert page_size(0) == DEFAULT_PAGE_SIZE
    assert page_size(1) == 1
    assert page_size(MAX_PAGE_SIZE) == MAX_PAGE_SIZE
    for bad in (-1, MAX_PAGE_SIZE + 1):
        with pytest.raises(InvalidArgumentError, match="page_size: must be between 1 and"):
            page_size(bad)


def test_tokens_round_trip_and_strangers_are_refused() -> None:
    assert after_of("") == ""
    for path in ("a", "dir/ü b.txt", "x" * 1000):
        assert after_of(token_after(path)) == path
    forged = base64.urlsafe_b64encode(b'{"after":"a"}').decode()
    for bad in ("!!!", "bm90IGpzb24", forged, token_after("a")[:-3], "A" * 9000):
        with pytest.raises(InvalidArgumentError, match="page_token: is not a token"):
            after_of(bad)


def test_pages_add_up_to_the_listing() -> None:
    listing = entries(*(f"d/f{i:04}" for i in range(25)))
    seen: list[str] = []
    token = ""
    while True:
        page = page_of(listing, 10, after_of(token))
        seen += [e.path for e in page.entries]
        token = page.next_token
        if not token:
            break
    assert seen == [e.path for e in listing]
    assert page_of(listing, 25, "").next_token == ""
    assert page_of([], 10, "").entries == []


def test_a_file_removed_between_pages_shifts_nothing() -> None:
    first = page_of(entries("a", "b", "c", "d"), 2, "")
    assert [e.path for e in first.entries] == ["a", "b"]
    rest = page_of(entries("a", "c", "d"), 2, after_of(first.next_token))  # "b" is gone
    assert [e.path for e in rest.entries] == ["c", "d"]
