"""Schemathesis hooks for tests/e2e/schemathesis_run.py (loaded through SCHEMATHESIS_HOOKS):
generated requests never switch ListPods or GetPodLogs to their Server-Sent Events variants
(`?watch=true`, `?follow=true`), which answer with a stream that does not end; the streams are
tested by tests/e2e/test_watch.py."""

from __future__ import annotations

from typing import Any

import schemathesis

STREAM_SWITCHES = ("watch", "follow")


@schemathesis.hook
def map_query(context: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
    if not query:
        return query
    return {name: value for name, value in query.items() if name not in STREAM_SWITCHES}
