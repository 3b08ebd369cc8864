"""The trust tests' kit: a tenant's customer invited, a mail delivered through the inbound
pipeline (stored as the listener stores it, the jobs run), and what came of it."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import contracts, mail
from bot.jobs import run_jobs_until_idle
from storage.models import Contract, Message, Notification
from tests.fixtures.runtime import scoped
from tests.integration.test_bad_input import _outbox

INVITED = "karolien@mooi-schoonheid.example"
PARTIAL = "1. Klantenbeheer\n"


async def invited(runtime_factory, *tenants):
    """A runtime with these tenants, one customer invited in each: (contract id, invitation)
    per tenant."""
    rt = await runtime_factory(list(tenants))
    out = []
    for t in tenants:
        cid = await contracts.add_customer(
            rt, t.slug, name="MOOI", representative="Karolien Piskor", email=INVITED
        )
        contract_id = await contracts.invite(rt, t.slug, cid)
        await run_jobs_until_idle(rt)
        (invitation,) = _outbox(rt, t.slug)
        out.append((contract_id, invitation))
    return rt, out


_uid = iter(range(1000, 10**6))


def next_uid() -> int:
    """An IMAP UID no mail of this test run had yet."""
    return next(_uid)


async def deliver(rt, slug, raw: bytes) -> Message:
    row_id = await mail.store_inbound(rt, slug, "INBOX", 1, next_uid(), raw)
    assert row_id is not None
    await run_jobs_until_idle(rt)
    async with scoped(rt) as s:
        return await s.get(Message, row_id)


async def count_out(rt, slug) -> int:
    async with scoped(rt) as s:
        return await s.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.tenant_id == rt.tenant_ids[slug], Message.direction == "out")
        )


async def notes(rt, slug) -> list[str]:
    async with scoped(rt) as s:
        rows = await s.scalars(
            select(Notification.kind).where(Notification.tenant_id == rt.tenant_ids[slug])
        )
        return list(rows.all())


async def state_of(rt, contract_id) -> str:
    async with scoped(rt) as s:
        return (await s.get(Contract, contract_id)).state


def with_header(raw: bytes, line: str) -> bytes:
    return line.encode() + b"\r\n" + raw
