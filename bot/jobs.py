"""procrastinate tasks: thin wrappers that call the service with the process's runtime."""

from __future__ import annotations

from typing import Any

from procrastinate import Blueprint, RetryStrategy
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import raw_connection

blueprint = Blueprint()
# Mail and TSA outages are retried with backoff (about 1 min, 2 min, 4 min … up to 8 tries).
_RETRY = RetryStrategy(max_attempts=8, wait=5, exponential_wait=2)


async def defer(session: AsyncSession, task: str, **kwargs: Any) -> None:
    """Queue a job inside the session's transaction: a rollback leaves no job behind."""
    from bot.runtime import current

    conn = await raw_connection(session)
    await current().app.configure_task(f"dpabot:{task}", connection=conn).defer_async(**kwargs)


@blueprint.task(name="send_message", retry=_RETRY)
async def send_message(tenant: str, message_row_id: int) -> None:
    from bot import service
    from bot.runtime import current

    await service.send_message(current(), tenant, message_row_id)


@blueprint.task(name="process_inbound", retry=_RETRY)
async def process_inbound(tenant: str, message_row_id: int) -> None:
    from bot import service
    from bot.runtime import current

    await service.process_inbound(current(), tenant, message_row_id)


@blueprint.task(name="finalize", retry=_RETRY)
async def finalize(tenant: str, contract_id: int, version: int) -> None:
    from bot import service
    from bot.runtime import current

    await service.finalize(current(), tenant, contract_id, version)


@blueprint.task(name="customer_sign", retry=_RETRY)
async def customer_sign(tenant: str, contract_id: int, message_row_id: int) -> None:
    from bot import service
    from bot.runtime import current

    await service.customer_sign(current(), tenant, contract_id, message_row_id)
