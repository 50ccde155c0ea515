"""Applies the Alembic migrations in migrations/ to a database URL.

Called by the local stack launcher before the services start (`python -m
services.common.db.migrate`), by a Kubernetes init job, and by the store tests.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from services.common.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at our migrations and `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Brings the database at `url` to the newest schema (idempotent)."""
    command.upgrade(alembic_config(url), "head")


async def upgrade_async(url: str) -> None:
    """`upgrade` for callers already inside an event loop."""
    await asyncio.to_thread(upgrade, url)


def main() -> int:
    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
