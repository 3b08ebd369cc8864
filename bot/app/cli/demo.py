"""`dpabot demo`: the whole chain on embedded defaults."""

from __future__ import annotations

import argparse

from bot.app.cli.common import FAILURE, OK, service_settings, show
from bot.app.demo_seeds import SEEDS


async def cmd_demo(args: argparse.Namespace) -> int:
    settings = service_settings(None)
    workdir = (args.workdir or settings.data_dir).resolve()
    # The render worker starts and warms up first, while this process loads the rest.
    from bot.jobs import cpu

    warming = cpu.warm(SEEDS[args.seed].tenant.template)
    # Imported here, after the worker has started (start-up cost: the whole chain's libraries).
    from bot.app.demo import human, run_demo

    result = await run_demo(workdir, settings.database_url, args.seed, warming=warming)
    show(result, args.json, human(result))
    return (
        OK
        if result["state"] == "completed" and all(s["valid"] for s in result["signatures"])
        else FAILURE
    )
