"""`status_requested` as create and update accept it, as in Tapis: a pod created OFF is
recorded but not started (STOPPED until it is started); an update may ask for ON, OFF or
RESTART, which does what the start, stop and restart calls do. Pure functions, called by
domain/pods.py."""

from __future__ import annotations

from services.api.errors import InvalidArgumentError
from services.common.pods_model import RequestedStatus

ON_CREATE = (RequestedStatus.ON, RequestedStatus.OFF)


def requested_on_create(value: str) -> RequestedStatus:
    """ON (the default, also for "") or OFF; InvalidArgumentError for anything else."""
    if not value:
        return RequestedStatus.ON
    requested = _parsed(value)
    if requested not in ON_CREATE:
        raise InvalidArgumentError(
            "status_requested", f"must be ON or OFF when creating a pod (got {value!r})"
        )
    return requested


def requested_on_update(value: str | None) -> RequestedStatus | None:
    """None when the update does not ask for a status; else ON, OFF or RESTART."""
    if value is None or value == "":
        return None
    return _parsed(value)


def _parsed(value: str) -> RequestedStatus:
    try:
        return RequestedStatus(value.upper())
    except ValueError:
        raise InvalidArgumentError(
            "status_requested", f"must be ON, OFF or RESTART (got {value[:40]!r})"
        ) from None
