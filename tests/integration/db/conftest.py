"""Repository fixtures: a migrated SQLite file and a fresh PostgreSQL database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.common.db.database import Repositories
from services.common.db.migrate import upgrade_async

PG_ADMIN_DSN = os.environ.get("PODS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


async def _postgres_url() -> AsyncIterator[str]:
    name = f"pods_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{name}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Repositories]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'pods.db'}"
        await upgrade_async(url)
        s = Repositories.open(url)
        yield s
        await s.close()
        return
    gen = _postgres_url()
    url = await gen.__anext__()
    await upgrade_async(url)
    s = Repositories.open(url)
    yield s
    await s.close()
    with pytest.raises(StopAsyncIteration):
        await gen.__anext__()
