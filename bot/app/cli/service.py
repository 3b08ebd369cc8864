"""Running the service: demo, serve, worker, the database schema, tenants."""

from __future__ import annotations

import argparse

from sqlalchemy import select

from bot.app.cli.common import FAILURE, OK, database, service_settings, show, tenants_of
from bot.app.demo import human, run_demo
from bot.app.serve import serve
from bot.core.settings import load_tenant
from bot.core.tenant_templates import register_tenant_templates
from storage.models import Tenant
from storage.repositories import ensure_tenant


async def cmd_demo(args: argparse.Namespace) -> int:
    settings = service_settings(None)
    workdir = (args.workdir or settings.data_dir).resolve()
    result = await run_demo(workdir, settings.database_url)
    show(result, args.json, human(result))
    return (
        OK
        if result["state"] == "completed" and all(s["valid"] for s in result["signatures"])
        else FAILURE
    )


async def cmd_serve(args: argparse.Namespace) -> int:
    settings = service_settings(args.config)
    await serve(settings, tenants_of(settings), listeners=True, workers=args.concurrency)
    return OK


async def cmd_worker(args: argparse.Namespace) -> int:
    settings = service_settings(args.config)
    await serve(settings, tenants_of(settings), listeners=False, workers=args.concurrency)
    return OK


async def cmd_db_upgrade(args: argparse.Namespace) -> int:
    db = await database(service_settings(args.config))
    await db.dispose()
    print("The database schema is up to date.")
    return OK


async def cmd_tenant_add(args: argparse.Namespace) -> int:
    tenant = load_tenant(args.file)
    register_tenant_templates([tenant])  # its template: packaged or in its own folder
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
