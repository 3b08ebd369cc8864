"""What the command groups share: settings, the database, output, exit codes, small parsers."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.app.cli.usage import BAD_INPUT, FAILURE, OK, UsageError, date_arg
from bot.errors import DpabotError

if TYPE_CHECKING:
    from bot.core.settings import ServiceSettings, TenantSettings
    from storage.database import Database

# Settings (pydantic), the database (SQLAlchemy, psycopg) and certificates are imported in the
# functions that need them: `dpabot verify` and `render` need none of them (start-up cost).

__all__ = ["BAD_INPUT", "FAILURE", "OK", "UsageError", "date_arg"]


def service_settings(config: Path | None) -> ServiceSettings:
    from bot.core.settings import load_service

    if config is None and Path("dpabot.toml").exists():
        config = Path("dpabot.toml")
    return load_service(config)


def tenants_of(settings: ServiceSettings) -> list[TenantSettings]:
    from bot.core.settings import load_tenant

    return [load_tenant(p) for p in settings.tenants]


async def database(settings: ServiceSettings) -> Database:
    from bot.core.postgres import database_url
    from storage.database import Database
    from storage.scope import APP_ROLE

    db = Database(await asyncio.to_thread(database_url, settings), role=APP_ROLE)
    await db.upgrade()
    return db


def show(data: Any, as_json: bool, text: str) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str) if as_json else text)


def load_roots(paths: list[Path]) -> list[Any]:
    from bot.core.tenant_signing import load_cert

    try:
        return [load_cert(p) for p in paths]
    except DpabotError as exc:
        raise UsageError(str(exc)) from exc


async def archive_session(
    args: argparse.Namespace, fn: Callable[..., Coroutine[Any, Any, int]]
) -> int:
    db = await database(service_settings(args.config))
    try:
        async with db.transaction() as s:
            return await fn(s)
    finally:
        await db.dispose()


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name (containers): still an actor
        return "cli"


def no_tenant(slug: str, known: Iterable[str]) -> UsageError:
    """The one error for an unknown tenant, whatever the command (exit 2)."""
    names = sorted(set(known))
    listed = f"known: {', '.join(names)}" if names else "none is configured"
    return UsageError(
        f"There is no tenant '{slug}' in this configuration ({listed}); a tenant's file must be "
        "listed in 'tenants' in dpabot.toml."
    )


def configured_tenant(args: argparse.Namespace) -> tuple[Any, list[Any]]:
    """The service settings and the one tenant named by --tenant (a usage error if unknown)."""
    settings = service_settings(args.config)
    every = tenants_of(settings)
    tenants = [t for t in every if t.slug == args.tenant]
    if not tenants:
        raise no_tenant(args.tenant, (t.slug for t in every))
    return settings, tenants


def read_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"The {what} {path} cannot be read ({exc}).") from exc


def listed(items: list[str], limit: int = 20) -> str:
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" and {more} more" if more > 0 else "")
