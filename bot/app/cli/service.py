"""Running the service: demo, serve, worker, the database schema."""

from __future__ import annotations

import argparse

from bot.app.cli.common import FAILURE, OK, database, service_settings, show, tenants_of
from bot.app.demo import human, run_demo
from bot.app.serve import serve


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
