"""The database: its schema, the embedded server, tenants."""

from __future__ import annotations

import argparse

from sqlalchemy import select

from bot.app.cli.common import OK, UsageError, database, service_settings, show
from bot.core.settings import load_tenant
from storage.embedded import stop_embedded
from storage.models import Tenant
from storage.repositories import ensure_tenant


async def cmd_db_upgrade(args: argparse.Namespace) -> int:
    db = await database(service_settings(args.config))
    await db.dispose()
    print("The database schema is up to date.")
    return OK


def cmd_db_stop(args: argparse.Namespace) -> int:
    settings = service_settings(args.config)
    if settings.database_url:
        raise UsageError(
            "This configuration names a database (database_url); `db stop` only stops the "
            "embedded PostgreSQL that dpabot starts itself."
        )
    pg = settings.data_dir.resolve() / "pg"
    pid = stop_embedded(settings.data_dir)
    if pid is None:
        print(f"No embedded PostgreSQL is running under {pg}.")
    else:
        print(f"Stopped the embedded PostgreSQL under {pg} (pid {pid}).")
    return OK


async def cmd_tenant_add(args: argparse.Namespace) -> int:
    tenant = load_tenant(args.file)
    db = await database(service_settings(args.config))
    try:
        async with db.transaction() as s:
            row = await ensure_tenant(s, tenant.slug, tenant.name)
        print(
            f"Tenant {tenant.slug} ({tenant.name}) is registered as id {row.id}; add "
            f"{args.file} to 'tenants' in dpabot.toml so the service loads it."
        )
    finally:
        await db.dispose()
    return OK


async def cmd_tenant_list(args: argparse.Namespace) -> int:
    db = await database(service_settings(args.config))
    try:
        async with db.transaction() as s:
            rows = (await s.scalars(select(Tenant).order_by(Tenant.slug))).all()
    finally:
        await db.dispose()
    show(
        [{"slug": t.slug, "name": t.name} for t in rows],
        args.json,
        "\n".join(f"{t.slug}\t{t.name}" for t in rows) or "No tenants yet.",
    )
    return OK
