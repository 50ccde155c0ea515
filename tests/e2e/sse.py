"""A Server-Sent Events client for the e2e tests: reads `?follow=true`, `/events` and
`?watch=true` streams through the real gateway, line by line."""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from tests.e2e.harness import Stack


@dataclass(frozen=True)
class Event:
    id: str
    event: str
    data: dict[str, Any]


class Sse:
    """A Server-Sent Events stream read line by line, as curl -N would."""

    def __init__(self, stack: Stack, path: str, token: str, last_event_id: str = "") -> None:
        headers = {"X-Tapis-Token": token, "Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        request = urllib.request.Request(stack.url + path, headers=headers)
        self.response = urllib.request.urlopen(request, timeout=40, context=stack.ssl_context())
        self.comments = 0

    def next(self) -> Event:
        fields: dict[str, str] = {}
        while True:
            line = self.response.readline().decode()
            assert line, "the stream ended"
            if line == "\n" and fields:
                return Event(fields.get("id", ""), fields["event"], json.loads(fields["data"]))
            if line.startswith(":"):
                self.comments += 1
            elif ": " in line:
                name, _, value = line.rstrip("\n").partition(": ")
                fields[name] = value

    def until(self, done: Any, timeout: float = 120) -> list[Event]:
        events: list[Event] = []
        deadline = time.monotonic() + timeout
        while not events or not done(events[-1]):
            assert time.monotonic() < deadline, events
            events.append(self.next())
        return events

    def close(self) -> None:
        self.response.close()
