"""`dpabot demo`: the whole chain on embedded defaults."""

from __future__ import annotations

import argparse

from bot.app.cli.common import FAILURE, OK, service_settings, show
from bot.app.demo import human, run_demo


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
