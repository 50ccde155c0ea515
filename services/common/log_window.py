"""Which stored log chunks make up a bounded read of a pod's output: pure, shared by the
log repository (services/common/db/repositories/logs.py, which computes the window from the
chunks' sizes) and the API's streamed GetPodLogs (services/api/domain/log_pieces.py, which
reads the window batch by batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BATCH_BYTES = 1024 * 1024  # chunk data fetched per trip by a streamed read


@dataclass(frozen=True)
class LogWindow:
    """Which chunks hold a run's newest output within a limit (read_logs' answer, in pieces):
    their ids in order, grouped into batches of about `BATCH_BYTES`, and how many leading
    bytes of the first chunk fall outside the limit."""

    batches: tuple[tuple[int, ...], ...]
    skip_bytes: int


def log_window(
    chunks: Sequence[tuple[int, int]], limit_bytes: int, batch_bytes: int = BATCH_BYTES
) -> LogWindow:
    """The window of `chunks` ((id, size) in order) whose newest `limit_bytes` bytes are kept."""
    kept: list[tuple[int, int]] = []
    total = 0
    for chunk_id, size in reversed(chunks):
        if total >= limit_bytes:
            break
        kept.append((chunk_id, size))
        total += size
    kept.reverse()
    batches: list[tuple[int, ...]] = []
    batch: list[int] = []
    batch_size = 0
    for chunk_id, size in kept:
        if batch and batch_size + size > batch_bytes:
            batches.append(tuple(batch))
            batch, batch_size = [], 0
        batch.append(chunk_id)
        batch_size += size
    if batch:
        batches.append(tuple(batch))
    return LogWindow(tuple(batches), max(0, total - limit_bytes))
