"""BenchFakeRuntime: the in-memory FakeRuntime, made usable by a real stack for scale
benchmarks only (PODS_RUNTIME=fake together with PODS_ALLOW_FAKE_RUNTIME=1; the factory
refuses it otherwise). NOT a platform: nothing runs, no image is pulled, no resource limit
is applied. It exists so the control plane (API, NATS, spawner, health, the database, the
pod router and Envoy) can be measured with 10,000 pods on a machine that cannot run 10,000
containers (bench/scale.py).

Differences from the unit tests' FakeRuntime: a real clock (UTC now), and every published
port of every pod is the one port of a small real listener this runtime starts on loopback
on first use (`EchoListener`), so health's readiness probes (services/health/probes.py:
http, postgres, tcp) succeed through the normal path and pods reach AVAILABLE as they would
on Docker. The gateway's pod router therefore routes every fake pod to that listener.

Built by services/spawner/platforms/factory.py, once per deployment (the spawner's
reconciler and what health observes through it must see the same containers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from services.common.runtime.fake import FakeRuntime
from services.common.runtime.types import ContainerSpec, EnsureResult, PodKey

log = logging.getLogger(__name__)

SSL_REQUEST = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")
HTTP_OK = (
    b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
    b"Connection: close\r\n\r\nfake pod ok"
)
LABEL = "FAKE runtime (PODS_RUNTIME=fake): benchmark only, no container runs"


class EchoListener:
    """A loopback TCP listener standing in for every fake pod's service: answers a
    PostgreSQL SSLRequest with `N` and anything else with an HTTP 200, then closes."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        """Starts listening (once); the port."""
        if self._server is None:
            self._server = await asyncio.start_server(self._answer, self.host, 0)
            self.port = self._server.sockets[0].getsockname()[1]
            log.warning("%s: every pod's port is %s:%d", LABEL, self.host, self.port)
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    @staticmethod
    async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await asyncio.wait_for(reader.read(1024), 5.0)
            writer.write(b"N" if first.startswith(SSL_REQUEST) else HTTP_OK)
            await writer.drain()
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class _Forgotten(list[tuple[str, PodKey | None]]):
    """FakeRuntime's `calls`, kept by no one: a long benchmark must not grow it."""

    def append(self, item: tuple[str, PodKey | None]) -> None:
        del item


def _utc_now() -> datetime:
    return datetime.now(UTC)


class BenchFakeRuntime(FakeRuntime):
    """FakeRuntime with a real clock whose pods all publish to one EchoListener."""

    def __init__(self, deployment_id: str) -> None:
        super().__init__(deployment_id, clock=_utc_now)
        self.calls = _Forgotten()
        self.listener = EchoListener()

    async def ensure(self, spec: ContainerSpec) -> EnsureResult:
        await self.listener.start()
        return await super().ensure(spec)

    def _take_port(self) -> int:
        return self.listener.port

    async def close(self) -> None:
        await self.listener.close()
