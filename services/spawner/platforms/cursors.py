"""Log cursors, the same on every platform: a cursor is the timestamp of the newest log line
handed out ("" before the first), read back as nanoseconds since the epoch.

Called by docker/runtime.py and kubernetes/runtime.py (logs_since), each with the stamp
parser of its platform (docker/translate.stamp_nanos, kubernetes/logs.stamp_nanos). Pure.
"""

from __future__ import annotations

from collections.abc import Callable

from services.common.outcomes import PermanentError


def cursor_nanos(cursor: str, stamp_nanos: Callable[[str], int | None], what: str) -> int | None:
    """The nanoseconds `cursor` names, None for "" (read from the start); PermanentError when
    it is not `what` (a stamp `stamp_nanos` reads)."""
    if not cursor:
        return None
    nanos = stamp_nanos(cursor)
    if nanos is None:
        raise PermanentError(f"log cursor {cursor!r} is not {what}")
    return nanos
