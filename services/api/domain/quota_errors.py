"""Turns the repositories' quota refusal into the caller's error (RESOURCE_EXHAUSTED, HTTP 429).
Used by domain/pods.py and domain/volumes.py around every write that can raise a user's use;
the check itself is in the repositories (services/common/db/quotas.py), atomic with the write."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from services.api.errors import ResourceExhaustedError
from services.common.quotas_model import QuotaExceededError


@contextlib.contextmanager
def refusals() -> Iterator[None]:
    """The repositories' QuotaExceededError as ResourceExhaustedError, its message kept."""
    try:
        yield
    except QuotaExceededError as exc:
        raise ResourceExhaustedError(str(exc)) from None
