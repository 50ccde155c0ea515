"""The storage seam's errors as the caller's errors, for domain/volumes.py: bad requests
name the field, a full volume or a conflicting state is a failed precondition, missing files
are not found; a delete refused because a container still mounts the object says so without
naming other users' containers.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from services.api.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from services.common.storage.types import (
    InvalidStorageRequest,
    QuotaExceeded,
    StorageConflict,
    StorageNotFound,
)

log = logging.getLogger(__name__)


@contextlib.contextmanager
def storage_errors(field: str, *, missing_is_invalid: bool = False) -> Iterator[None]:
    """Translates the storage seam's errors for callers: bad requests name `field`, a full
    volume or a conflicting state is a failed precondition, missing files are not found (or,
    with `missing_is_invalid`, a bad `field`). Temporary errors pass through (UNAVAILABLE)."""
    try:
        yield
    except StorageNotFound as exc:
        if missing_is_invalid:
            raise InvalidArgumentError(field, str(exc)) from None
        raise NotFoundError(str(exc)) from None
    except InvalidStorageRequest as exc:
        raise InvalidArgumentError(field, str(exc)) from None
    except (QuotaExceeded, StorageConflict) as exc:
        raise FailedPreconditionError(str(exc)) from None


@contextlib.contextmanager
def still_mounted(what: str) -> Iterator[None]:
    """The storage refuses to delete what a container still mounts (a pod being deleted):
    say so without naming other users' containers."""
    try:
        yield
    except StorageConflict as exc:
        log.info("delete of %s refused by the storage: %s", what, exc)
        raise FailedPreconditionError(
            f"{what} is still mounted by a container that is going away; try again shortly"
        ) from None
