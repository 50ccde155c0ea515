"""grpc.health.v1 for one process, driven by what that process needs.

Each process names its dependencies with a check (a coroutine that raises when the dependency
is down: the database's `SELECT 1`, the NATS connection, a runtime call). `DependencyHealth`
runs them every few seconds and reports every service name SERVING while all pass and
NOT_SERVING while any fails, logging each change once. The service name `liveness` always
answers SERVING while the process runs (for a liveness probe that must not restart a process
only because the database is down). Used by grpc_server.new_server and the api, spawner and
health processes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[object]]
LIVENESS = "liveness"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class DependencyHealth:
    """The health servicer of one process and the loop that keeps it true."""

    def __init__(
        self,
        service_names: Sequence[str],
        checks: Mapping[str, Check] | None = None,
        interval: float = 2.0,
        timeout: float = 3.0,
    ) -> None:
        self.servicer = HealthServicer()
        self._names = ["", *service_names]
        self._checks = dict(checks or {})
        self._interval = interval
        self._timeout = timeout
        self._serving: bool | None = None
        self.failures: dict[str, str] = {}

    async def _failure(self, check: Check) -> str | None:
        try:
            await asyncio.wait_for(check(), self._timeout)
        except TimeoutError:
            return f"no answer within {self._timeout:.0f}s"
        except Exception as error:  # any failure of a check means "down"
            return str(error) or type(error).__name__
        return None

    async def check_once(self) -> bool:
        """Runs every check once and publishes the result; True when all passed."""
        results = await asyncio.gather(*(self._failure(c) for c in self._checks.values()))
        self.failures = {
            name: reason
            for name, reason in zip(self._checks, results, strict=True)
            if reason is not None
        }
        serving = not self.failures
        if serving != self._serving:
            if serving:
                log.info("dependencies are up: health SERVING")
            else:
                log.warning("health NOT_SERVING: %s", self._describe())
            for name in self._names:
                await self.servicer.set(name, SERVING if serving else NOT_SERVING)
            self._serving = serving
        return serving

    def _describe(self) -> str:
        return "; ".join(f"{name}: {reason}" for name, reason in sorted(self.failures.items()))

    async def run(self) -> None:
        """Checks forever, every `interval` seconds; never raises."""
        await self.servicer.set(LIVENESS, SERVING)
        while True:
            try:
                await self.check_once()
            except Exception:  # a broken check must not end the loop (or the server)
                log.exception("dependency check failed")
            await asyncio.sleep(self._interval)


def connected(is_connected: Callable[[], bool], what: str) -> Check:
    """A check that fails while `is_connected()` is false (e.g. the NATS connection)."""

    async def check() -> None:
        if not is_connected():
            raise ConnectionError(f"{what} is not connected")

    return check
