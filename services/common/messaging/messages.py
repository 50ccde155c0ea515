"""Pod commands and pod events, and their wire codec (versioned JSON); pure, no I/O.

Callers: services/api and services/health build `PodCommand`s, services/health builds
`PodEvent`s, the spawner's handler and the gateway's event handler receive them; the NATS
adapter (nats_bus.py) and the dispatcher (dispatch.py) encode and decode them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from services.common.outcomes import Outcome, PermanentError
from services.common.runtime.types import PodKey

WIRE_VERSION = 1

_TOKEN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
_TEXT_MAX = 200


class InvalidMessageError(PermanentError, ValueError):
    """A message, or a value meant for one, that breaks the wire contract."""


def _token(what: str, value: object) -> str:
    """A subject-safe identifier (tenant or pod id)."""
    if not isinstance(value, str) or not _TOKEN_RE.fullmatch(value):
        raise InvalidMessageError(f"{what} must match {_TOKEN_RE.pattern}, got {value!r}")
    return value


def _text(what: str, value: object) -> str:
    """A short, non-empty, printable string (reason, status)."""
    if not isinstance(value, str) or not value or len(value) > _TEXT_MAX:
        raise InvalidMessageError(f"{what} must be 1-{_TEXT_MAX} characters, got {value!r}")
    if not value.isprintable():
        raise InvalidMessageError(f"{what} must be printable, got {value!r}")
    return value


def _count(what: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidMessageError(f"{what} must be a non-negative integer, got {value!r}")
    return value


def _encode(fields: dict[str, object]) -> bytes:
    return json.dumps({"v": WIRE_VERSION, **fields}, separators=(",", ":")).encode()


def _decode(data: bytes, kind: str) -> dict[str, Any]:
    """The JSON object of a message, checked for our wire version."""
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidMessageError(f"{kind} is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidMessageError(f"{kind} must be a JSON object, got {type(obj).__name__}")
    if obj.get("v") != WIRE_VERSION:
        raise InvalidMessageError(f"{kind} has unsupported version {obj.get('v')!r}")
    return obj


@dataclass(frozen=True)
class PodCommand:
    """ "Reconcile this pod": published by api and health, consumed by the spawner.

    `reason` ("create", "delete", "resync", ...) is for logs; the handler reads the desired
    state from the database, so any command for a pod makes it converge."""

    tenant_id: str
    pod_id: str
    reason: str

    def __post_init__(self) -> None:
        _token("tenant_id", self.tenant_id)
        _token("pod_id", self.pod_id)
        _text("reason", self.reason)

    @property
    def key(self) -> PodKey:
        return PodKey(self.tenant_id, self.pod_id)

    def encode(self) -> bytes:
        return _encode({"tenant_id": self.tenant_id, "pod_id": self.pod_id, "reason": self.reason})

    @classmethod
    def decode(cls, data: bytes) -> PodCommand:
        """Raises InvalidMessageError for anything but a valid encoded command."""
        obj = _decode(data, "command")
        return cls(
            tenant_id=_token("tenant_id", obj.get("tenant_id")),
            pod_id=_token("pod_id", obj.get("pod_id")),
            reason=_text("reason", obj.get("reason")),
        )


@dataclass(frozen=True)
class PodEvent:
    """A pod's observed status changed: published by health, read by the gateway and others.

    `generation` is the pod's spec generation the status was observed for."""

    tenant_id: str
    pod_id: str
    status: str
    generation: int

    def __post_init__(self) -> None:
        _token("tenant_id", self.tenant_id)
        _token("pod_id", self.pod_id)
        _text("status", self.status)
        _count("generation", self.generation)

    @property
    def key(self) -> PodKey:
        return PodKey(self.tenant_id, self.pod_id)

    def encode(self) -> bytes:
        return _encode(
            {
                "tenant_id": self.tenant_id,
                "pod_id": self.pod_id,
                "status": self.status,
                "generation": self.generation,
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> PodEvent:
        """Raises InvalidMessageError for anything but a valid encoded event."""
        obj = _decode(data, "event")
        return cls(
            tenant_id=_token("tenant_id", obj.get("tenant_id")),
            pod_id=_token("pod_id", obj.get("pod_id")),
            status=_text("status", obj.get("status")),
            generation=_count("generation", obj.get("generation")),
        )


CommandHandler = Callable[[PodCommand], Awaitable[Outcome]]
EventHandler = Callable[[PodEvent], Awaitable[None]]
