"""`dpabot serve` / `dpabot worker`: listeners and job workers until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.app.runtime import open_runtime
from bot.core import redact
from bot.core.runtime import Runtime
from bot.core.settings import ServiceSettings, TenantSettings
from bot.jobs.queue import watch_stalled
from bot.mail.listener import listen

log = logging.getLogger(__name__)


async def serve(
    settings: ServiceSettings, tenants: list[TenantSettings], *, listeners: bool, workers: int
) -> None:
    redact.install()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_runtime(settings, tenants) as rt:
        await run(rt, stop, listeners=listeners, workers=workers)


async def run(rt: Runtime, stop: asyncio.Event, *, listeners: bool, workers: int) -> None:
    """Work the job queue (and listen to every tenant's mailbox) until ``stop`` is set."""
    with_chat = listeners and any(t.telegram is not None for t in rt.tenants.values())
    if with_chat:
        # The staff chat runs beside the listeners (not in `dpabot worker`); a wrong token or
        # chat mapping stops the start with its sentence.
        from bot.app import telegram as chat

        chat.check(rt)
    stalled_after = rt.settings.jobs.stalled_after
    tasks = [
        asyncio.create_task(
            # LISTEN/NOTIFY: a job deferred by the listener's transaction starts at once on
            # commit, instead of at the next poll (5 s); polling stays as the fallback.
            rt.app.run_worker_async(
                concurrency=workers,
                install_signal_handlers=False,
                listen_notify=True,
                delete_jobs="successful",
                # The heartbeat by which other workers tell this one alive (see JobSettings).
                update_heartbeat_interval=stalled_after / 3,
                stalled_worker_timeout=stalled_after,
            ),
            name="worker",
        ),
        # A worker killed mid-job (kill -9) leaves it 'doing': this runs it again.
        asyncio.create_task(watch_stalled(rt), name="stalled"),
    ]
    if listeners:
        tasks += [
            asyncio.create_task(listen(rt, slug, stop), name=f"listen:{slug}")
            for slug in rt.tenants
        ]
    if with_chat:
        tasks.append(asyncio.create_task(chat.run(rt, stop), name="chat"))
    log.info("dpabot running: %d tenant(s), listeners=%s", len(rt.tenants), listeners)
    await stop.wait()
    for task in tasks:
        if task.get_name() != "chat":  # the chat stops itself on `stop`, cleanly
            task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
