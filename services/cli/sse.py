"""Server-Sent Events parsing (the text/event-stream format of the HTML standard), without I/O:
lines in, events out. Used by the REST client (services/cli/client.py) for the streaming paths
of the watch contract (`/v3/pods/{pod_id}/events`, `/logs?follow=true`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """One dispatched event: its type ("message" when the stream names none), its data (the
    `data:` lines joined by newlines) and the last event id seen so far on the stream."""

    event: str = "message"
    data: str = ""
    id: str | None = None


def parse(lines: Iterable[str]) -> Iterator[Event]:
    """The events of a stream given line by line (without line ends). Comment lines (`:`, such
    as `: keep-alive`) are skipped; a blank line dispatches what was gathered (an unfinished
    event at the end is dropped, as the standard says). An event with an `event:` field but no
    data (`event: deleted`) is dispatched too."""
    last_id: str | None = None
    kind = ""
    data: list[str] = []
    for line in lines:
        if not line:
            if data or kind:
                yield Event(kind or "message", "\n".join(data), last_id)
            kind, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            kind = value
        elif name == "id" and "\0" not in value:
            last_id = value
    # An event not ended by a blank line when the stream stops is incomplete: dropped.
