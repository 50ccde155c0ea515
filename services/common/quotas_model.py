"""Per-user quotas as the domain sees them: limits (or a use, or a charge) in each dimension,
a user's effective limits and use, the refusal sentence and its error.

Pure data (no SQLAlchemy): services/api/domain checks and shows quotas with it, and
services/common/db/quotas.py (the row lock, the count and the check inside a transaction)
computes them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from services.common.outcomes import PodsError

# name shown to users, and unit, of each quota field
_SHOWN = {
    "pods": ("pods", ""),
    "volumes": ("volumes", ""),
    "cpu_millis": ("cpu", " millicores"),
    "mem_mib": ("memory", " MiB"),
    "storage_mib": ("storage", " MiB"),
}


@dataclass(frozen=True)
class Quota:
    """Limits (or a use, or a charge) in each dimension a quota holds."""

    pods: int = 0
    volumes: int = 0
    cpu_millis: int = 0
    mem_mib: int = 0
    storage_mib: int = 0


@dataclass(frozen=True)
class QuotaView:
    """A user's effective limits, which of them are the tenant default, and their use."""

    username: str
    limits: Quota
    overridden: frozenset[str]
    use: Quota


class QuotaExceededError(PodsError):
    """A write would take the user over a quota; the message names it and the current use."""


def over_quota(limits: Quota, use: Quota, charge: Quota) -> str | None:
    """The refusal sentence when `use + charge` breaks a limit that the charge raises."""
    for item in fields(Quota):
        asked = getattr(charge, item.name)
        if asked <= 0:
            continue
        used, limit = getattr(use, item.name), getattr(limits, item.name)
        if used + asked > limit:
            shown, unit = _SHOWN[item.name]
            extra = "" if item.name in ("pods", "volumes") else f"; this asks for {asked}{unit}"
            return f"quota exceeded: {shown} {used} of {limit}{unit} in use{extra}"
    return None
