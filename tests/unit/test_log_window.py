"""A bounded log read in pieces: the newest chunks whose sizes reach the limit, cut at the
front by what lies beyond it, fetched in batches of about a megabyte."""

from __future__ import annotations

from services.common.log_window import LogWindow, log_window

CHUNKS = [(1, 10), (2, 10), (3, 10), (4, 10)]


def test_everything_within_the_limit_is_kept_whole() -> None:
    assert log_window(CHUNKS, 40) == LogWindow(((1, 2, 3, 4),), 0)
    assert log_window(CHUNKS, 1000) == LogWindow(((1, 2, 3, 4),), 0)


def test_the_oldest_kept_chunk_is_cut_to_the_limit() -> None:
    assert log_window(CHUNKS, 25) == LogWindow(((2, 3, 4),), 5)
    assert log_window(CHUNKS, 20) == LogWindow(((3, 4),), 0)
    assert log_window(CHUNKS, 1) == LogWindow(((4,),), 9)


def test_batches_hold_about_batch_bytes_and_at_least_one_chunk() -> None:
    assert log_window(CHUNKS, 40, batch_bytes=20) == LogWindow(((1, 2), (3, 4)), 0)
    assert log_window(CHUNKS, 40, batch_bytes=5) == LogWindow(((1,), (2,), (3,), (4,)), 0)


def test_no_chunks_no_batches() -> None:
    assert log_window([], 100) == LogWindow((), 0)
