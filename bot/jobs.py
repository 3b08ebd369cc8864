"""procrastinate tasks: thin wrappers that call the service with the process's runtime."""

from __future__ import annotations

from typing import Any

import procrastinate
from procrastinate import JobContext, RetryStrategy
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import raw_connection

# Mail and TSA outages are retried with backoff (about 1 min, 2 min, 4 min … up to 8 tries).
_RETRY = RetryStrategy(max_attempts=8, wait=5, exponential_wait=2)


async def defer(session: AsyncSession, task: str, **kwargs: Any) -> None:
    """Queue a job inside the session's transaction: a rollback leaves no job behind."""
    from bot.runtime import current

    conn = await raw_connection(session)
    await current().app.configure_task(f"dpabot:{task}", connection=conn).defer_async(**kwargs)


async def send_message(tenant: str, message_row_id: int) -> None:
    from bot import service
    from bot.runtime import current

    await service.send_message(current(), tenant, message_row_id)


async def process_inbound(context: JobContext, tenant: str, message_row_id: int) -> None:
    from bot import service
    from bot.runtime import current

    # Outages are retried; only the last attempt shunts a mail that still fails.
    final = context.job.attempts >= (_RETRY.max_attempts or 0)
    await service.process_inbound(current(), tenant, message_row_id, final_attempt=final)


async def reminders(timestamp: int) -> None:
    from bot import reminders
    from bot.runtime import current

    await reminders.run(current())


async def retry_stalled(timestamp: int) -> None:
    """Jobs left 'doing' by a worker that died (kill -9, power loss) are run again."""
    from bot.runtime import current

    app = current().app
    for job in await app.job_manager.get_stalled_jobs():
        await app.job_manager.retry_job(job)


async def finalize(tenant: str, contract_id: int, version: int) -> None:
    from bot import service
    from bot.runtime import current

    await service.finalize(current(), tenant, contract_id, version)


async def customer_sign(tenant: str, contract_id: int, message_row_id: int) -> None:
    from bot import service
    from bot.runtime import current

    await service.customer_sign(current(), tenant, contract_id, message_row_id)


def build_app(conninfo: str) -> procrastinate.App:
    """A procrastinate App with dpabot's tasks (a new one per runtime: tests open several)."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))
    for fn in (send_message, finalize, customer_sign):
        app.task(name=f"dpabot:{fn.__name__}", retry=_RETRY)(fn)
    app.task(name="dpabot:process_inbound", retry=_RETRY, pass_context=True)(process_inbound)
    # Periodic: reminders and expiry hourly; stalled jobs every minute, ahead of the backlog.
    app.periodic(cron="7 * * * *", periodic_id="reminders")(
        app.task(name="dpabot:reminders", queueing_lock="reminders")(reminders)
    )
    app.periodic(cron="* * * * *", periodic_id="retry_stalled")(
        app.task(name="dpabot:retry_stalled", priority=100, queueing_lock="stalled")(retry_stalled)
    )
    return app
