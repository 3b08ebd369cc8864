"""procrastinate tasks: thin wrappers that call the service with the process's runtime."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import procrastinate
from procrastinate import JobContext, RetryStrategy
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import raw_connection

if TYPE_CHECKING:
    from bot.core.runtime import Runtime

log = logging.getLogger(__name__)

# Mail and TSA outages are retried with backoff (about 1 min, 2 min, 4 min … up to 8 tries).
_RETRY = RetryStrategy(max_attempts=8, wait=5, exponential_wait=2)


async def defer(session: AsyncSession, task: str, **kwargs: Any) -> None:
    """Queue a job inside the session's transaction: a rollback leaves no job behind."""
    from bot.core.runtime import current

    conn = await raw_connection(session)
    await current().app.configure_task(f"dpabot:{task}", connection=conn).defer_async(**kwargs)


async def send_messages(context: JobContext, tenant: str, message_row_ids: list[int]) -> None:
    from bot.contracts import service
    from bot.core.runtime import current

    # Outages are retried; only the last attempt gives up on a mail and tells staff.
    final = context.job.attempts >= (_RETRY.max_attempts or 0)
    await service.send_messages(current(), tenant, message_row_ids, final_attempt=final)


async def send_message(tenant: str, message_row_id: int) -> None:
    """Jobs queued before mails went out in batches (send_messages) still find their task."""
    from bot.contracts import service
    from bot.core.runtime import current

    await service.send_message(current(), tenant, message_row_id)


async def process_inbound(context: JobContext, tenant: str, message_row_id: int) -> None:
    from bot.contracts import service
    from bot.core.runtime import current

    # Outages are retried; only the last attempt shunts a mail that still fails.
    final = context.job.attempts >= (_RETRY.max_attempts or 0)
    await service.process_inbound(current(), tenant, message_row_id, final_attempt=final)


async def reminders(timestamp: int) -> None:
    from bot.contracts import reminders
    from bot.core.runtime import current

    await reminders.run(current())


async def retry_stalled(timestamp: int) -> None:
    """Periodic jobs queued before watch_stalled() took over still find their task."""
    from bot.core.runtime import current

    await retry_stalled_jobs(current())


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


async def finalize(tenant: str, contract_id: int, version: int) -> None:
    from bot.contracts import service
    from bot.core.runtime import current

    await service.finalize(current(), tenant, contract_id, version)


async def customer_sign(
    tenant: str, contract_id: int, message_row_id: int, returned_sha256: str | None = None
) -> None:
    from bot.contracts import service
    from bot.core.runtime import current

    await service.customer_sign(
        current(), tenant, contract_id, message_row_id, returned_sha256=returned_sha256
    )


async def check_returned(
    context: JobContext, tenant: str, contract_id: int, message_row_id: int
) -> None:
    """A PDF the customer signed with their own certificate: accept or refuse it."""
    from bot.contracts import own_signature
    from bot.core.runtime import current

    final = context.job.attempts >= (_RETRY.max_attempts or 0)
    await own_signature.check_returned(
        current(), tenant, contract_id, message_row_id, final_attempt=final
    )


async def renew_timestamps(timestamp: int) -> None:
    """Archive timestamps whose TSA chain expires within the tenant's margin get a new one."""
    from bot.archive import renewal
    from bot.core.runtime import current

    await renewal.run(current())


async def retention(timestamp: int) -> None:
    """Personal data whose retention period ran out is erased (each erasure audited)."""
    from bot.archive import retention as retention_
    from bot.core.runtime import current

    await retention_.run(current())


def build_app(conninfo: str) -> procrastinate.App:
    """A procrastinate App with dpabot's tasks (a new one per runtime: tests open several)."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))
    for fn in (send_message, finalize, customer_sign):
        app.task(name=f"dpabot:{fn.__name__}", retry=_RETRY)(fn)
    app.task(name="dpabot:process_inbound", retry=_RETRY, pass_context=True)(process_inbound)
    app.task(name="dpabot:send_messages", retry=_RETRY, pass_context=True)(send_messages)
    app.task(name="dpabot:check_returned", retry=_RETRY, pass_context=True)(check_returned)
    # Periodic: reminders and expiry hourly. Stalled jobs: watch_stalled() in each worker.
    app.periodic(cron="7 * * * *", periodic_id="reminders")(
        app.task(name="dpabot:reminders", queueing_lock="reminders")(reminders)
    )
    app.task(name="dpabot:retry_stalled", priority=100, queueing_lock="stalled")(retry_stalled)
    # Daily, at night: renewal has months of margin and retention counts in days.
    app.periodic(cron="23 2 * * *", periodic_id="renew_timestamps")(
        app.task(name="dpabot:renew_timestamps", queueing_lock="renewal")(renew_timestamps)
    )
    app.periodic(cron="41 3 * * *", periodic_id="retention")(
        app.task(name="dpabot:retention", queueing_lock="retention")(retention)
    )
    return app
