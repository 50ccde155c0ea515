"""The tiny error vocabulary shared by reconcile steps (after kopf).

A step either succeeds, fails temporarily (try again after a delay), or fails permanently
(record the error, do not retry). Adapters raise these; domain code turns them into outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass


class PodsError(Exception):
    """Base of our own errors."""


class TemporaryError(PodsError):
    """Something that may work if tried again later (engine down, conflict, timeout)."""

    def __init__(self, message: str, delay: float = 1.0) -> None:
        super().__init__(message)
        self.delay = delay


class DatabaseUnavailableError(TemporaryError):
    """The database cannot be reached or written just now; the caller may try again."""

    def __init__(self, reason: str = "") -> None:
        detail = f" ({reason})" if reason else ""
        super().__init__(f"the database is unavailable{detail}; try again shortly", delay=2.0)


class PermanentError(PodsError):
    """Something that will fail the same way every time (image missing, invalid spec)."""


@dataclass(frozen=True)
class Done:
    """The step was applied; `detail` says what it did ("created", "adopted", ...)."""

    detail: str


@dataclass(frozen=True)
class Retry:
    """The step must run again after `delay` seconds."""

    reason: str
    delay: float


@dataclass(frozen=True)
class Failed:
    """The step can never succeed as asked; `reason` is shown to the user."""

    reason: str


Outcome = Done | Retry | Failed
