"""Shared unit-test fixtures: a migrated SQLite store in the test's temp dir (the store is our
own adapter; its PostgreSQL behaviour is covered by tests/integration/db)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.common.db.database import Repositories
from services.common.db.migrate import upgrade_async


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Repositories]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'pods.db'}"
    await upgrade_async(url)
    s = Repositories.open(url)
    yield s
    await s.close()
