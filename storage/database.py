"""Database wiring: URL resolution, async engine, sessions, migrations."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from threading import Lock
from typing import Any
from urllib.parse import quote

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import scope

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


def as_role(url: str, role: str | None) -> str:
    """The libpq URL whose sessions act as ``role`` from their start (``options=-c role=``).

    Set at connection start, the role is also what RESET ROLE returns to.
    """
    if not role:
        return libpq_url(url)
    u = make_url(libpq_url(url))
    options = " ".join(filter(None, [str(u.query.get("options", "")), f"-c role={role}"]))
    base = u.difference_update_query(["options"]).render_as_string(hide_password=False)
    # libpq reads %20 as a space but not "+", which SQLAlchemy's rendering would write.
    return f"{base}{'&' if '?' in base else '?'}options={quote(options, safe='')}"


class Database:
    """One async engine and session factory for a PostgreSQL URL.

    ``role``: the role the service's connections act as (storage.scope.APP_ROLE: row-level
    security applies to it); migrations always run as the URL's own user, the owner.
    """

    def __init__(self, url: str, *, pool_size: int = 5, role: str | None = None) -> None:
        self.owner_url = libpq_url(url)
        self.url = as_role(url, role)
        options = make_url(self.url).query.get("options")
        self.engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(self.owner_url),
            pool_size=pool_size,
            pool_pre_ping=True,
            connect_args={"options": options} if options else {},
        )
        scope.install(self.engine.sync_engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(
        self, tenants: Iterable[int] | None = None
    ) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on error; then
        the work queued with after_commit() runs (only after a commit).

        ``tenants``: the tenants it acts for (row-level security shows their rows only); a
        TenantRepo made on the session binds it to its tenant as well.
        """
        async with self.sessions() as session:
            if tenants is not None:
                scope.bind(session, tenants)
            async with session.begin():
                yield session
            for fn in session.info.pop(_AFTER_COMMIT, []):
                await fn()

    @asynccontextmanager
    async def direct(self, tenants: Iterable[int]) -> AsyncIterator[Any]:
        """A psycopg connection of its own in autocommit mode, acting for these tenants (as the
        service's role, row-level security on): for many one-statement writes, each committed
        by itself in one round trip, without a transaction's BEGIN, COMMIT and the pool's
        check of the connection (a send job's marks: bot/outbox/marks.py)."""
        import psycopg

        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            await scope.bind_connection(conn, tenants)
            yield conn

    async def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision (runs Alembic in a thread).

        Alembic (its import and its environment cost most of a short command's start) runs
        only when the database's revision differs from the newest migration file's.
        """
        if await self.schema_revision() != {head_revision()}:
            await asyncio.to_thread(upgrade_schema, self.owner_url)

    async def schema_revision(self) -> set[str]:
        """The revisions recorded in the database (empty: none, or no schema yet)."""
        import psycopg

        try:
            async with await psycopg.AsyncConnection.connect(self.owner_url) as conn:
                cur = await conn.execute("SELECT version_num FROM alembic_version")
                return {str(row[0]) for row in await cur.fetchall()}
        except psycopg.errors.UndefinedTable:
            return set()

    async def dispose(self) -> None:
        await self.engine.dispose()


_REVISION = re.compile(r"^revision\b[^=]*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\b[^=]*=(.*)$", re.M)


def head_revision() -> str | None:
    """The newest migration's revision, read from the files (as Alembic's head: the revision
    no other names as its down_revision); None when there is not exactly one."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        if found := _REVISION.search(text):
            revisions.add(found[1])
        if down := _DOWN.search(text):
            parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down[1]))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # '%' must be doubled for configparser interpolation.
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return cfg


# The advisory lock's first key, so the second (the database) cannot meet another lock's.
_MIGRATION_LOCK = 0x64706162  # "dpab"
# Alembic's context and op are module-level proxies: two upgrades in one process at once would
# swap each other's; this lock keeps them apart, the advisory lock keeps processes apart.
_ALEMBIC = Lock()


def upgrade_schema(url: str) -> None:
    """Alembic upgrade to head (sync; call from a thread inside a running loop).

    Runs once per database however many start at the same moment (the service, workers, a
    CLI): one transaction first takes a transaction-level advisory lock keyed by the database,
    then migrates on that same connection (storage/migrations/env.py) and commits. Whoever
    waited then finds the schema at head and has nothing left to do.
    """
    from alembic import command
    from sqlalchemy import create_engine, pool, text

    cfg = alembic_config(url)
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with _ALEMBIC, engine.begin() as conn:
            conn.execute(
                text(
                    f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK}, hashtext(current_database()))"
                )
            )
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()


async def raw_connection(session: AsyncSession) -> Any:
    """The psycopg AsyncConnection under a session, so procrastinate defers in our transaction."""
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    # Statements sent straight to the driver still act for the session's tenants.
    await scope.apply_raw(conn.info, driver)
    return driver
