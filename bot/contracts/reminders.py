"""Periodic reminders and expiry of contracts that wait for the customer ([reminders])."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Runtime
from bot.domain.workflow import Event, State, decide
from bot.outbox.queue import customer_mail, queue_mail
from storage import audit
from storage.models import Contract
from storage.notify import notify_staff
from storage.repositories import TenantRepo
from templates.chat import notice_text

log = logging.getLogger(__name__)

# States in which dpabot waits for the customer (draft has not been mailed yet).
# Not negotiating: then the customer waits for staff, not the other way round.
WAITING = (State.INVITED, State.COLLECTING, State.AWAITING_SIGNATURE)


async def run(rt: Runtime, now: dt.datetime | None = None) -> tuple[int, int]:
    """Send the reminders that are due and expire overdue contracts: (reminded, expired)."""
    now = now or dt.datetime.now(dt.UTC)
    totals = (0, 0)
    for slug in rt.tenants:
        r, e = await _tenant(rt, slug, now)
        totals = (totals[0] + r, totals[1] + e)
    return totals


def _due(
    after_days: list[int], age: dt.timedelta, sent: list[dt.datetime], now: dt.datetime
) -> bool:
    """Reminder n (counting those sent) is due n-th threshold days after the invitation, and
    no sooner after the previous reminder than the thresholds are apart (a late run catches
    up with one mail, not a burst)."""
    days = sorted(after_days)
    n = len(sent)
    if n >= len(days) or age < dt.timedelta(days=days[n]):
        return False
    return n == 0 or now - max(sent) >= dt.timedelta(days=days[n] - days[n - 1])


async def queue_reminder(
    s: AsyncSession, rt: Runtime, slug: str, repo: TenantRepo, contract: Contract
) -> int:
    """Compose the contract's reminder mail and queue it in the caller's transaction (the
    periodic run, or staff asking for one now with /remind)."""
    tenant = rt.tenant(slug)
    customer = await repo.customer(contract.customer_id)
    version = await repo.version(contract)
    msg = customer_mail(tenant, customer, contract, "reminder", version.fields)
    return await queue_mail(s, slug, repo, contract, msg, "reminder")


async def _tenant(rt: Runtime, slug: str, now: dt.datetime) -> tuple[int, int]:
    tenant = rt.tenant(slug)
    cfg = tenant.reminders
    reminded = expired = 0
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        # Another worker handling the same contract (a reply) wins; we see it next run.
        contracts = await repo.lock_contracts_in(WAITING)
        for contract in contracts:
            age = now - contract.created_at
            if cfg.expire_after_days and age >= dt.timedelta(days=cfg.expire_after_days):
                step = decide(State(contract.state), Event("expired"))
                contract.state = step.state.value
                await audit.record(
                    s, repo.tenant_id, "dpabot", "contract.expired", f"contract:{contract.id}"
                )
                params = {"ref": f"{slug}-{contract.id}", "days": cfg.expire_after_days}
                await notify_staff(
                    s,
                    repo.tenant_id,
                    "expired",
                    notice_text("expired", params),
                    f"contract:{contract.id}",
                    params=params,
                )
                expired += 1
                continue
            sent = await repo.mail_times(contract, "reminder")
            if not _due(cfg.after_days, age, sent, now):
                continue
            await queue_reminder(s, rt, slug, repo, contract)
            reminded += 1
    if reminded or expired:
        log.info(
            "tenant %s: %d reminder(s) queued, %d contract(s) expired", slug, reminded, expired
        )
    return reminded, expired
