"""Running the service: serve and worker."""

from __future__ import annotations

import argparse

from bot.app.cli.common import OK, service_settings, tenants_of
from bot.app.serve import serve


async def cmd_serve(args: argparse.Namespace) -> int:
    settings = service_settings(args.config)
    await serve(settings, tenants_of(settings), listeners=True, workers=args.concurrency)
    return OK


async def cmd_worker(args: argparse.Namespace) -> int:
    settings = service_settings(args.config)
    await serve(settings, tenants_of(settings), listeners=False, workers=args.concurrency)
    return OK
