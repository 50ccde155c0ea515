"""Persistence adapter: SQLAlchemy models, Alembic migrations, the engine and its sessions
(sessions.py), row-to-record mapping (mapping.py), the repositories by aggregate
(repositories/) and the per-process bundle of them (database.py, `Repositories`).

Only this package imports sqlalchemy or alembic. SQLite (aiosqlite) is the default,
PostgreSQL (asyncpg) is selected by URL.
"""
