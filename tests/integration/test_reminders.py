"""Reminders and expiry: periodic, per-tenant days, tested by moving timestamps, not sleeping."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from bot import contracts
from bot.app.demo import DEMO_ANSWERS, customer_reply
from bot.contracts import reminders
from bot.core.settings import ReminderSettings
from bot.jobs import run_jobs_until_idle
from storage.models import Contract, Message
from tests.fixtures.runtime import make_tenant, scoped
from tests.integration.test_bad_input import _outbox
from tests.trust_kit import INVITED, deliver, notes, state_of


async def _age(rt, contract_id: int, days: float, kind: str | None = None) -> None:
    """Move the contract's invitation (or its mails of ``kind``) ``days`` into the past."""
    back = dt.timedelta(days=days)
    async with scoped(rt) as s:
        if kind is None:
            await s.execute(
                update(Contract)
                .where(Contract.id == contract_id)
                .values(created_at=Contract.created_at - back)
            )
        else:
            await s.execute(
                update(Message)
                .where(Message.contract_id == contract_id, Message.kind == kind)
                .values(created_at=Message.created_at - back)
            )


def _kinds(rt, slug) -> list[str]:
    return [str(m["X-Dpabot-Kind"]) for m in _outbox(rt, slug)]


async def test_reminders_on_the_configured_days_then_expiry(runtime_factory):
    tenant = make_tenant()
    tenant.reminders = ReminderSettings(after_days=[7, 14], expire_after_days=30)
    rt = await runtime_factory([tenant])
    cid = await contracts.add_customer(
        rt, tenant.slug, name="MOOI", representative="Karolien Piskor", email=INVITED
    )
    contract_id = await contracts.invite(rt, tenant.slug, cid)
    await run_jobs_until_idle(rt)
    assert await reminders.run(rt) == (0, 0)  # day 0: nothing due
    await _age(rt, contract_id, 8)
    assert await reminders.run(rt) == (1, 0)
    assert await reminders.run(rt) == (0, 0)  # once, not on every run
    await run_jobs_until_idle(rt)
    assert _kinds(rt, tenant.slug).count("reminder") == 1
    await _age(rt, contract_id, 7)  # day 15, but the first reminder is only hours old
    assert await reminders.run(rt) == (0, 0)
    await _age(rt, contract_id, 7, kind="reminder")
    assert await reminders.run(rt) == (1, 0)
    assert await reminders.run(rt) == (0, 0)  # only two configured
    await _age(rt, contract_id, 16)  # day 31
    assert await reminders.run(rt) == (0, 1)
    assert await state_of(rt, contract_id) == "expired"
    assert "expired" in await notes(rt, tenant.slug)
    # The token is dead: a late reply is kept, staff told, nothing sent.
    await run_jobs_until_idle(rt)
    sent = len(_outbox(rt, tenant.slug))
    row = await deliver(
        rt, tenant.slug, customer_reply(_outbox(rt, tenant.slug)[0], DEMO_ANSWERS, INVITED)
    )
    assert row.outcome == "closed_contract"
    await run_jobs_until_idle(rt)
    assert len(_outbox(rt, tenant.slug)) == sent


async def test_reminder_while_awaiting_signature_asks_for_agreement(runtime_factory):
    tenant = make_tenant()
    rt = await runtime_factory([tenant])
    cid = await contracts.add_customer(
        rt, tenant.slug, name="MOOI", representative="Karolien Piskor", email=INVITED
    )
    contract_id = await contracts.invite(rt, tenant.slug, cid)
    await run_jobs_until_idle(rt)
    (invitation,) = _outbox(rt, tenant.slug)
    await deliver(rt, tenant.slug, customer_reply(invitation, DEMO_ANSWERS, INVITED))
    assert await state_of(rt, contract_id) == "awaiting_signature"
    await _age(rt, contract_id, 8)
    assert await reminders.run(rt) == (1, 0)
    await run_jobs_until_idle(rt)
    (reminder,) = [m for m in _outbox(rt, tenant.slug) if m["X-Dpabot-Kind"] == "reminder"]
    assert "AKKOORD" in reminder.get_body(preferencelist=("plain",)).get_content()
