"""`dpabot serve` / `dpabot worker`: listeners and job workers until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from bot.listener import listen
from bot.runtime import open_runtime

log = logging.getLogger(__name__)


async def serve(settings: Any, tenants: list[Any], *, listeners: bool, workers: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_runtime(settings, tenants) as rt:
        tasks = [
            asyncio.create_task(
                rt.app.run_worker_async(concurrency=workers, install_signal_handlers=False),
                name="worker",
            )
        ]
        if listeners:
            tasks += [
                asyncio.create_task(listen(rt, t.slug, stop), name=f"listen:{t.slug}")
                for t in tenants
            ]
        log.info("dpabot running: %d tenant(s), listeners=%s", len(tenants), listeners)
        await stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
