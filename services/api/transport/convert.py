"""What every servicer's conversions share: the Tapis envelope of a successful response, the
timestamps and grant strings Tapis prints. Pure functions, called by the servicers and the
per-resource conversion modules (pods_convert, templates_convert, storage_convert)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from google.protobuf import struct_pb2

from services.common.pods_model import Level

ENVELOPE_VERSION = "0.1.0"


def timestamp(value: datetime | None) -> str:
    """A time as Tapis prints its timestamps, which its users parse with
    `datetime.fromisoformat`: UTC, ISO 8601 without an offset, with microseconds unless they
    are zero (`2024-03-18T11:36:05.123456`); "" for none."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


def envelope(message: str) -> dict[str, Any]:
    """The Tapis envelope fields of a successful response."""
    return {
        "status": "success",
        "message": message,
        "version": ENVELOPE_VERSION,
        "metadata": struct_pb2.Struct(),
    }


def grant_strings(grants: Sequence[tuple[str, Level]]) -> list[str]:
    """Tapis's "user:LEVEL" strings of an object's grants."""
    return [f"{user}:{level.value}" for user, level in grants]
