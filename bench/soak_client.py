"""The HTTP side of bench/soak.py: a keep-alive client of the gateway as one user, and the
name an error is counted under. Used by the soak's workers, its GetPod load process and its
setup (bench/soak_churn.py, bench/soak_getpod.py, bench/soak.py)."""

from __future__ import annotations

import http.client
import json
from typing import Any

HTTP_TIMEOUT = 30.0


# -- HTTP -------------------------------------------------------------------------------------


class Client:
    """A keep-alive connection to the gateway as one user; reconnects after any failure.
    Every call returns (status, parsed body or None); exceptions are left to the caller."""

    def __init__(self, port: int, token: str) -> None:
        self._port = port
        self._headers = {"Content-Type": "application/json", "X-Tapis-Token": token}
        self._conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=HTTP_TIMEOUT)
        payload = json.dumps(body).encode() if body is not None else None
        try:
            self._conn.request(method, path, body=payload, headers=self._headers)
            response = self._conn.getresponse()
            raw = response.read()
        except BaseException:
            self.close()
            raise
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def error_kind(call: str, status: int | None = None, exc: BaseException | None = None) -> str:
    if exc is not None:
        return f"{call} {type(exc).__name__}"
    return f"{call} HTTP {status}"
