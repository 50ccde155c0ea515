"""Log cursors over the kubelet's timestamped lines."""

from __future__ import annotations

import pytest

from services.spawner.platforms.kubernetes.logs import (
    complete_lines,
    lines_after,
    since_time,
    stamp_nanos,
)

BASE = 1_714_557_600 * 1_000_000_000  # 2024-05-01T10:00:00Z


@pytest.mark.parametrize(
    ("stamp", "nanos"),
    [
        ("2024-05-01T10:00:00Z", BASE),
        ("2024-05-01T10:00:00.5Z", BASE + 500_000_000),
        ("2024-05-01T10:00:00.000000001Z", BASE + 1),
        ("2024-05-01T12:00:00.25+02:00", BASE + 250_000_000),
        ("2024-05-01T09:30:00-00:30", BASE),
        ("not-a-stamp", None),
        ("2024-05-01 10:00:00Z", None),
    ],
)
def test_stamp_nanos(stamp: str, nanos: int | None) -> None:
    assert stamp_nanos(stamp) == nanos


def test_since_time_is_the_whole_second_in_utc() -> None:
    assert since_time(BASE + 999_999_999) == "2024-05-01T10:00:00Z"


def test_lines_after_drops_the_overlap_and_reports_the_newest_stamp() -> None:
    output = (
        "2024-05-01T10:00:00.100000000Z one\n"
        "2024-05-01T10:00:00.200000000Z two\n"
        "2024-05-01T10:00:00.300000000Z three\n"
    )
    assert lines_after(output, None) == ("one\ntwo\nthree\n", "2024-05-01T10:00:00.300000000Z")
    assert lines_after(output, BASE + 200_000_000) == ("three\n", "2024-05-01T10:00:00.300000000Z")
    assert lines_after(output, BASE + 300_000_000) == ("", "")


def test_a_last_line_without_newline_is_kept() -> None:
    assert lines_after("2024-05-01T10:00:01Z done", BASE) == ("done", "2024-05-01T10:00:01Z")


def test_complete_lines_drops_a_cut_line_only_when_the_read_was_full() -> None:
    assert complete_lines("a\nb", full=True) == "a\n"
    assert complete_lines("a\nb", full=False) == "a\nb"
    assert complete_lines("a\n", full=True) == "a\n"
    assert complete_lines("abc", full=True) == ""
