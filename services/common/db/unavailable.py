"""Turns connection-level database failures into one error our callers understand.

A stopped PostgreSQL, a dropped connection, an exhausted pool, or a SQLite file that is locked,
read-only or on a full disk all leave the repositories as `DatabaseUnavailableError` (a
`TemporaryError`: the API answers UNAVAILABLE, reconcile steps retry). Used only by
sessions.py, at the one place where sessions are opened, so no other module sees SQLAlchemy
or driver exceptions for these cases. Errors of our own making (a bad query, a constraint)
pass through.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import exc as sa_exc

from services.common.outcomes import DatabaseUnavailableError

# SQLSTATE classes meaning "no usable connection": 08 connection exception, 57P operator
# intervention (admin shutdown, crash shutdown, cannot connect now), 53 insufficient resources.
_UNAVAILABLE_SQLSTATES = ("08", "57P", "53")
_SQLITE_REASONS = (
    ("readonly", "it is read-only"),
    ("read-only", "it is read-only"),
    ("disk is full", "its disk is full"),
    ("disk i/o error", "its disk failed"),
    ("database is locked", "it is busy"),
    ("unable to open", "its file cannot be opened"),
)


def _sqlstate(error: BaseException) -> str:
    seen: BaseException | None = error
    for _ in range(4):
        if seen is None:
            break
        state = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if isinstance(state, str) and state:
            return state
        seen = seen.__cause__ or getattr(seen, "orig", None)
    return ""


def _sqlite_reason(error: sa_exc.DBAPIError) -> str:
    text = str(error.orig).lower()
    for needle, reason in _SQLITE_REASONS:
        if needle in text:
            return reason
    return ""


def unavailable_reason(error: BaseException) -> str | None:
    """None if `error` is not a connection-level failure, else a short reason (may be "")."""
    if isinstance(error, sa_exc.TimeoutError):  # the connection pool stayed empty
        return "no connection was free in time"
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return "the connection was lost"
        if _sqlstate(error).startswith(_UNAVAILABLE_SQLSTATES):
            return "it is shutting down or refusing connections"
        if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
            return _sqlite_reason(error)
        if "connection" in str(error.orig).lower() and "closed" in str(error.orig).lower():
            return "the connection was lost"
        return None
    if isinstance(error, ConnectionError | TimeoutError):
        return "it refuses connections"
    if isinstance(error, OSError):  # asyncpg's connect: host unreachable, socket gone
        return "it cannot be reached"
    return None


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Re-raises connection-level failures inside the block as DatabaseUnavailableError."""
    try:
        yield
    except DatabaseUnavailableError:
        raise
    except Exception as error:
        reason = unavailable_reason(error)
        if reason is None:
            raise
        raise DatabaseUnavailableError(reason) from error
