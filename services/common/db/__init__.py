"""Persistence adapter: SQLAlchemy models, Alembic migrations and the `Store` repository.

Only this package imports sqlalchemy or alembic. SQLite (aiosqlite) is the default,
PostgreSQL (asyncpg) is selected by URL.
"""
