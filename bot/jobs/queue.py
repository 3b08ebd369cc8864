"""The job queue (procrastinate on the service's PostgreSQL): defer in a transaction, work it.

Which function runs for which task name is the task table's business (bot.app.tasks): the
tasks call into every capability, so the table sits above them all, while any capability may
defer a job by its name from here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from procrastinate import RetryStrategy
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Runtime, current
from storage.database import raw_connection

log = logging.getLogger(__name__)

# Mail and TSA outages are retried with backoff (about 1 min, 2 min, 4 min … up to 8 tries).
RETRY = RetryStrategy(max_attempts=8, wait=5, exponential_wait=2)


async def defer(session: AsyncSession, task: str, **kwargs: Any) -> None:
    """Queue a job inside the session's transaction: a rollback leaves no job behind."""
    conn = await raw_connection(session)
    await current().app.configure_task(f"dpabot:{task}", connection=conn).defer_async(**kwargs)


async def run_jobs_until_idle(rt: Runtime, concurrency: int = 2) -> None:
    """Work the queue until no job is due (demo, CLI one-shots, tests).

    A worker with wait=False stops as soon as one poll finds nothing, even while a running job
    is about to queue the next one, so poll again until the queue is really idle.
    """
    while True:
        await rt.app.run_worker_async(
            wait=False,
            concurrency=concurrency,
            install_signal_handlers=False,
            listen_notify=False,
            delete_jobs="successful",
        )
        async with rt.db.transaction() as s:
            due = await s.scalar(
                text(
                    "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') "
                    "AND (scheduled_at IS NULL OR scheduled_at <= now())"
                )
            )
        if not due:
            return


# pg_try_advisory_xact_lock key of the stalled-job check (any constant unique to it).
_STALLED_LOCK = 0x64706162_73746C64  # "dpab" "stld"


async def retry_stalled_jobs(rt: Runtime) -> int:
    """Queue again the jobs left 'doing' by workers silent for [jobs] stalled_after seconds
    (killed with kill -9, their machine gone); the number queued again."""
    manager = rt.app.job_manager
    async with rt.db.transaction() as s:
        # One process at a time: a list read by another process just before would name a job
        # that a live worker has taken up again since, and it would run twice at once.
        if not await s.scalar(select(func.pg_try_advisory_xact_lock(_STALLED_LOCK))):
            return 0
        stalled = list(
            await manager.get_stalled_jobs(seconds_since_heartbeat=rt.settings.jobs.stalled_after)
        )
        for job in stalled:
            log.warning(
                "Job %s (%s) was left running by a worker that stopped; it runs again.",
                job.id,
                job.task_name,
            )
            await manager.retry_job(job)
    return len(stalled)


async def watch_stalled(rt: Runtime) -> None:
    """retry_stalled_jobs() every stalled_after / 3 seconds, in every worker process: not a
    periodic job, which would wait for a free slot while long jobs hold them all."""
    period = rt.settings.jobs.stalled_after / 3
    task = asyncio.current_task()
    while True:
        try:
            await retry_stalled_jobs(rt)
        except Exception:  # the database away for a moment: the next round tries again
            log.warning("Looking for stalled jobs failed.", exc_info=True)
        if task is not None and task.cancelling():  # a cancellation a library call swallowed
            raise asyncio.CancelledError
        await asyncio.sleep(period)
