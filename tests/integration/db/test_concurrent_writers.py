"""Two processes writing the same pod at once (the spawner recording an applied change while
health records an observation) both keep their writes: no lost update of the status or of
the action log. Two Repositories bundles on one database stand in for the two processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.common.db.database import Repositories
from services.common.db.migrate import upgrade_async
from services.common.pods_model import ContainerStatus, PodSpec, Status
from services.common.runtime.types import PodKey
from tests.integration.db.conftest import _postgres_url

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
ROUNDS = 30


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        sqlite_url = f"sqlite+aiosqlite:///{tmp_path / 'pods.db'}"
        await upgrade_async(sqlite_url)
        yield sqlite_url
        return
    gen = _postgres_url()
    pg_url = await gen.__anext__()
    await upgrade_async(pg_url)
    yield pg_url
    with pytest.raises(StopAsyncIteration):
        await gen.__anext__()


async def test_spawner_and_health_writing_one_pod_at_once_lose_nothing(url: str) -> None:
    spawner, health = Repositories.open(url), Repositories.open(url)
    running = ContainerStatus(phase="running", message="container is running")
    lost = []
    try:
        for n in range(ROUNDS):
            key = PodKey("dev", f"race{n}")
            await spawner.pods.create_pod(
                key, owner="alice", spec=PodSpec(image="i"), credentials_encrypted=None, now=NOW
            )
            await asyncio.gather(
                spawner.pod_state.mark_applied(key, 1, "created", NOW),
                health.pod_state.record_observation(key, Status.AVAILABLE, running, NOW),
            )
            record = await spawner.pods.get_pod(key)
            assert record is not None
            logs = record.action_logs
            whole = (
                record.status is Status.AVAILABLE
                and record.observed_generation == 1
                and sum("container created" in line for line in logs) == 1
                and sum("status AVAILABLE" in line for line in logs) == 1
            )
            if not whole:
                lost.append((key.pod_id, record.status, logs))
    finally:
        await spawner.close()
        await health.close()
    assert lost == [], f"{len(lost)} of {ROUNDS} rounds lost a write: {lost[:2]}"
