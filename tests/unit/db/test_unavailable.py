"""Which errors mean "the database is unavailable" (our own classification): connection
failures do, a constraint violation or a programming error does not."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import exc as sa_exc

from services.common.db.unavailable import translated, unavailable_reason
from services.common.outcomes import DatabaseUnavailableError


def _wrapped(
    kind: type[sa_exc.DBAPIError], orig: Exception, invalidated: bool = False
) -> Exception:
    return kind("SELECT 1", {}, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ConnectionRefusedError(111, "refused"), "it refuses connections"),
        (OSError(113, "no route"), "it cannot be reached"),
        (sa_exc.TimeoutError("pool"), "no connection was free in time"),
        (
            _wrapped(sa_exc.DBAPIError, Exception("closed"), invalidated=True),
            "the connection was lost",
        ),
        (
            _wrapped(sa_exc.OperationalError, sqlite3.OperationalError("database or disk is full")),
            "its disk is full",
        ),
        (
            _wrapped(
                sa_exc.OperationalError,
                sqlite3.OperationalError("attempt to write a readonly database"),
            ),
            "it is read-only",
        ),
    ],
)
def test_connection_level_failures_are_unavailable(error: Exception, reason: str) -> None:
    assert unavailable_reason(error) == reason
    with pytest.raises(DatabaseUnavailableError, match="try again shortly") as raised, translated():
        raise error
    assert reason in str(raised.value)


@pytest.mark.parametrize(
    "error",
    [
        _wrapped(sa_exc.IntegrityError, sqlite3.IntegrityError("UNIQUE constraint failed")),
        _wrapped(sa_exc.ProgrammingError, Exception("syntax error")),
        ValueError("not a database problem"),
    ],
)
def test_other_errors_pass_through(error: Exception) -> None:
    assert unavailable_reason(error) is None
    with pytest.raises(type(error)), translated():
        raise error
