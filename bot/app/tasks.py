"""The task table: which function each job of the queue runs (thin wrappers over the
capabilities, with the process's runtime), and the periodic jobs."""

from __future__ import annotations

import procrastinate
from procrastinate import JobContext

from bot.archive import renewal, retention
from bot.contracts import customer_sign as sign_as_customer
from bot.contracts import finalize as finalize_version
from bot.contracts import own_signature
from bot.contracts import reminders as reminders_
from bot.core.runtime import current
from bot.jobs.queue import RETRY, retry_stalled_jobs
from bot.mail import inbound
from bot.outbox import send


def _last_attempt(context: JobContext) -> bool:
    # Outages are retried; only the last attempt gives up (and tells staff).
    return context.job.attempts >= (RETRY.max_attempts or 0)


async def send_messages(context: JobContext, tenant: str, message_row_ids: list[int]) -> None:
    await send.send_messages(
        current(), tenant, message_row_ids, final_attempt=_last_attempt(context)
    )


async def send_message(tenant: str, message_row_id: int) -> None:
    """Jobs queued before mails went out in batches (send_messages) still find their task."""
    await send.send_message(current(), tenant, message_row_id)


async def process_inbound(context: JobContext, tenant: str, message_row_id: int) -> None:
    await inbound.process_inbound(
        current(), tenant, message_row_id, final_attempt=_last_attempt(context)
    )


async def finalize(tenant: str, contract_id: int, version: int) -> None:
    await finalize_version(current(), tenant, contract_id, version)


async def customer_sign(
    tenant: str, contract_id: int, message_row_id: int, returned_sha256: str | None = None
) -> None:
    await sign_as_customer(
        current(), tenant, contract_id, message_row_id, returned_sha256=returned_sha256
    )


async def check_returned(
    context: JobContext, tenant: str, contract_id: int, message_row_id: int
) -> None:
    """A PDF the customer signed with their own certificate: accept or refuse it."""
    await own_signature.check_returned(
        current(), tenant, contract_id, message_row_id, final_attempt=_last_attempt(context)
    )


async def reminders(timestamp: int) -> None:
    await reminders_.run(current())


async def retry_stalled(timestamp: int) -> None:
    """Periodic jobs queued before watch_stalled() took over still find their task."""
    await retry_stalled_jobs(current())


async def renew_timestamps(timestamp: int) -> None:
    """Archive timestamps whose TSA chain expires within the tenant's margin get a new one."""
    await renewal.run(current())


async def erase_expired(timestamp: int) -> None:
    """Personal data whose retention period ran out is erased (each erasure audited)."""
    await retention.run(current())


def register(app: procrastinate.App) -> None:
    """Put dpabot's tasks on a job queue App (bot.core.runtime.open_core calls it)."""
    for fn in (send_message, finalize, customer_sign):
        app.task(name=f"dpabot:{fn.__name__}", retry=RETRY)(fn)
    app.task(name="dpabot:process_inbound", retry=RETRY, pass_context=True)(process_inbound)
    app.task(name="dpabot:send_messages", retry=RETRY, pass_context=True)(send_messages)
    app.task(name="dpabot:check_returned", retry=RETRY, pass_context=True)(check_returned)
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
        app.task(name="dpabot:retention", queueing_lock="retention")(erase_expired)
    )
