"""The one logging setup of every process, and the context its lines carry.

`setup_logging(process, log_format)` is called by each process's `main()` (services/api,
services/spawner, services/health, gateway/pod_router.py, services/devstack): `text` (the
default) keeps the classic `<time> <process> <LEVEL> <message>` lines, `json`
(PODS_LOG_FORMAT=json) writes one JSON object a line with the time, level, process, logger,
message and, where known, the pod, tenant, request id and trace id. `log_context(...)` sets
them for a block: the gRPC interceptor (services/common/grpc_observability.py) per call, the
command consumer's hook (services/common/command_context.py) per command.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import UTC, datetime

TENANT: ContextVar[str] = ContextVar("pods_log_tenant", default="")
POD: ContextVar[str] = ContextVar("pods_log_pod", default="")
REQUEST_ID: ContextVar[str] = ContextVar("pods_log_request_id", default="")
TRACE_ID: ContextVar[str] = ContextVar("pods_log_trace_id", default="")
_FIELDS = {"tenant": TENANT, "pod": POD, "request_id": REQUEST_ID, "trace_id": TRACE_ID}


@contextmanager
def log_context(**values: str) -> Iterator[None]:
    """Sets tenant, pod, request_id and/or trace_id (empty values are skipped) for the
    block's log lines, and restores the previous ones after it."""
    tokens = [(_FIELDS[name], _FIELDS[name].set(value)) for name, value in values.items() if value]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            # A streaming call's generator may be closed from another context (its
            # finalizer): then there is nothing of ours left to restore.
            with suppress(ValueError):
                var.reset(token)


def current_context() -> dict[str, str]:
    """The context fields set now (only those with a value)."""
    return {name: var.get() for name, var in _FIELDS.items() if var.get()}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (RFC 3339 UTC), level, process, logger, message, the
    context fields that are set, and `exc` with the traceback of an exception."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self._process = process

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "process": self._process,
            "logger": record.name,
            "message": record.getMessage(),
            **current_context(),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def setup_logging(process: str, log_format: str = "text", level: int = logging.INFO) -> None:
    """Configures the root logger of `process` (replacing an earlier setup) to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter(process))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {process} %(levelname)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
