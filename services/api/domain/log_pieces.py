"""GetPodLogs' answer read a batch of stored chunks at a time, so that the API never holds a
whole log (up to the log limit, megabytes) to answer over REST.

Called by domain/pods.py (Pods.logs_stream), whose caller, transport/watch_servicer.py's
StreamPodLogs, escapes each piece into the JSON body as it comes (transport/logs_body.py).
The pieces joined are what Pods.logs returns at the same moment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from services.api.domain.ports import LogStore
from services.common.log_window import LogWindow
from services.common.runtime.types import PodKey


@dataclass(frozen=True)
class PodLogsStream:
    """GetPodLogs' answer with the logs as pieces to read in order."""

    action_logs: tuple[str, ...]
    pieces: AsyncIterator[str]


async def stream_logs(
    store: LogStore, key: PodKey, action_logs: tuple[str, ...], limit_bytes: int, previous: int
) -> PodLogsStream:
    """The window is read now; the chunks' data as the pieces are consumed."""
    window = await store.log_window(key, limit_bytes, previous)
    return PodLogsStream(action_logs, _pieces(store, key, window))


async def _pieces(store: LogStore, key: PodKey, window: LogWindow) -> AsyncIterator[str]:
    """One piece per batch (chunks are often small: health stores what each read found)."""
    first = window.batches[0][0] if window.batches else None
    for batch in window.batches:
        chunks = await store.read_log_batch(key, batch)
        if chunks and chunks[0][0] == first and window.skip_bytes:
            cut = chunks[0][1].encode()[window.skip_bytes :].decode(errors="ignore")
            chunks[0] = (first, cut)
        yield "".join(data for _, data in chunks)
