"""The database of one process: its engine, its sessions and every repository on them.

`Repositories.open(url)` is called once by each process's wiring (services/api/server.py,
services/spawner/server.py, services/health/server.py, gateway/pod_router.py's caller) and by
the tests; the process passes each repository on, typed by the consumer's Protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db.repositories.catalog import CatalogRepository
from services.common.db.repositories.grants import GrantRepository
from services.common.db.repositories.logs import LogRepository
from services.common.db.repositories.pod_changes import PodChangeRepository
from services.common.db.repositories.pod_state import PodStateRepository
from services.common.db.repositories.pods import PodRepository
from services.common.db.repositories.quotas import QuotaRepository
from services.common.db.repositories.storage_records import StorageRecordRepository
from services.common.db.repositories.template_tags import TemplateTagRepository
from services.common.db.sessions import Sessions, open_engine


@dataclass(frozen=True)
class Repositories:
    """Every repository of a process, sharing one engine and its sessions."""

    engine: AsyncEngine
    sessions: Sessions
    pods: PodRepository
    pod_state: PodStateRepository
    changes: PodChangeRepository
    logs: LogRepository
    grants: GrantRepository
    catalog: CatalogRepository
    storage: StorageRecordRepository
    quotas: QuotaRepository
    template_tags: TemplateTagRepository

    @classmethod
    def open(cls, url: str) -> Repositories:
        """The repositories over a new engine for `url` (sqlite+aiosqlite:// or
        postgresql+asyncpg://)."""
        return cls.on(open_engine(url))

    @classmethod
    def on(cls, engine: AsyncEngine) -> Repositories:
        """The repositories over `engine`."""
        sessions = Sessions(engine)
        return cls(
            engine=engine,
            sessions=sessions,
            pods=PodRepository(sessions),
            pod_state=PodStateRepository(sessions),
            changes=PodChangeRepository(sessions),
            logs=LogRepository(sessions),
            grants=GrantRepository(sessions),
            catalog=CatalogRepository(sessions),
            storage=StorageRecordRepository(sessions),
            quotas=QuotaRepository(sessions),
            template_tags=TemplateTagRepository(sessions),
        )

    async def ping(self) -> None:
        """Runs `SELECT 1`; DatabaseUnavailableError if the database does not answer."""
        async with self.sessions() as session:
            await session.execute(select(1))

    async def close(self) -> None:
        self.sessions.close()
        await self.engine.dispose()
