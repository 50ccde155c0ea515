"""DependencyHealth reports NOT_SERVING while a dependency check fails, SERVING again after,
and keeps the `liveness` service SERVING throughout."""

from __future__ import annotations

import asyncio
from typing import Any

from grpc_health.v1 import health_pb2

from services.common.dependency_health import LIVENESS, DependencyHealth, connected

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _status(health: DependencyHealth, name: str) -> Any:
    request = health_pb2.HealthCheckRequest(service=name)
    return (await health.servicer.Check(request, None)).status


async def test_a_failing_dependency_turns_every_service_not_serving_until_it_passes() -> None:
    up = {"db": True}

    async def database() -> None:
        if not up["db"]:
            raise ConnectionRefusedError("refused")

    health = DependencyHealth(["pods.v1.PodsService"], {"database": database})
    assert await health.check_once()
    assert await _status(health, "") == SERVING
    assert await _status(health, "pods.v1.PodsService") == SERVING

    up["db"] = False
    assert not await health.check_once()
    assert await _status(health, "") == NOT_SERVING
    assert await _status(health, "pods.v1.PodsService") == NOT_SERVING
    assert health.failures == {"database": "refused"}

    up["db"] = True
    assert await health.check_once()
    assert await _status(health, "pods.v1.PodsService") == SERVING
    assert health.failures == {}


async def test_a_check_that_hangs_counts_as_down() -> None:
    async def hangs() -> None:
        await asyncio.sleep(60)

    health = DependencyHealth([], {"runtime": hangs}, timeout=0.05)
    assert not await health.check_once()
    assert "no answer" in health.failures["runtime"]


async def test_liveness_stays_serving_while_a_dependency_is_down() -> None:
    nats_up = False
    health = DependencyHealth([], {"nats": connected(lambda: nats_up, "NATS")}, interval=0.01)
    task = asyncio.create_task(health.run())
    try:
        for _ in range(100):
            await asyncio.sleep(0.01)
            if health.failures:
                break
        assert health.failures == {"nats": "NATS is not connected"}
        assert await _status(health, "") == NOT_SERVING
        assert await _status(health, LIVENESS) == SERVING
    finally:
        task.cancel()
