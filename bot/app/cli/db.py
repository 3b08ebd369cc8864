"""The database: its schema and the embedded server."""

from __future__ import annotations

import argparse

from bot.app.cli.common import OK, UsageError, database, service_settings
from storage.embedded import stop_embedded


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
