"""`dpabot serve` / `dpabot worker`: listeners and job workers until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from bot.listener import listen
from bot.runtime import Runtime, open_runtime

log = logging.getLogger(__name__)


async def serve(settings: Any, tenants: list[Any], *, listeners: bool, workers: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_runtime(settings, tenants) as rt:
        await run(rt, stop, listeners=listeners, workers=workers)


async def run(rt: Runtime, stop: asyncio.Event, *, listeners: bool, workers: int) -> None:
    """Work the job queue (and listen to every tenant's mailbox) until ``stop`` is set."""
    tasks = [
        asyncio.create_task(
            # LISTEN/NOTIFY: a job deferred by the listener's transaction starts at once on
            # commit, instead of at the next poll (5 s); polling stays as the fallback.
            rt.app.run_worker_async(
                concurrency=workers,
                install_signal_handlers=False,
                listen_notify=True,
                delete_jobs="successful",
            ),
            name="worker",
        )
    ]
    if listeners:
        tasks += [
            asyncio.create_task(listen(rt, slug, stop), name=f"listen:{slug}")
            for slug in rt.tenants
        ]
    log.info("dpabot running: %d tenant(s), listeners=%s", len(rt.tenants), listeners)
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
