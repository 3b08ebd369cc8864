"""Database wiring: URL resolution, async engine, sessions, migrations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).parent / "migrations"


def libpq_url(url: str) -> str:
    """The plain libpq form (postgresql://…) that psycopg and procrastinate take."""
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy form with the psycopg 3 driver."""
    u = make_url(url)
    return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


_AFTER_COMMIT = "dpabot_after_commit"


def after_commit(session: AsyncSession, fn: Callable[[], Awaitable[None]]) -> None:
    """Run fn once the transaction of Database.transaction() has committed, never after a
    rollback: what cannot be undone (deleting a file) must not happen for a rolled-back
    change."""
    session.info.setdefault(_AFTER_COMMIT, []).append(fn)


class Database:
    """One async engine and session factory for a PostgreSQL URL."""

    def __init__(self, url: str, *, pool_size: int = 5) -> None:
        self.url = libpq_url(url)
        self.engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(url), pool_size=pool_size, pool_pre_ping=True
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on error; then
        the work queued with after_commit() runs (only after a commit)."""
        async with self.sessions() as session:
            async with session.begin():
                yield session
            for fn in session.info.pop(_AFTER_COMMIT, []):
                await fn()

    async def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision (runs Alembic in a thread)."""
        await asyncio.to_thread(upgrade_schema, self.url)

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # '%' must be doubled for configparser interpolation.
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return cfg


def upgrade_schema(url: str) -> None:
    """Alembic upgrade to head (sync; call from a thread inside a running loop)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


async def raw_connection(session: AsyncSession) -> Any:
    """The psycopg AsyncConnection under a session, so procrastinate defers in our transaction."""
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    return raw.driver_connection
