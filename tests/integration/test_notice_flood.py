"""A flood of mail from strangers: every mail kept and audited, staff told once per sender."""

from __future__ import annotations

import secrets
import string
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import func, select, update

from bot import contracts, mail
from bot.core.settings import TenantSettings
from bot.jobs import run_jobs_until_idle
from storage.models import AuditEvent, Contract, Message, Notification
from storage.notify import SENDERS_PER_WINDOW, WINDOW
from tests.fixtures.runtime import make_tenant, scoped

ATTACKER = "attacker@evil.example"
_uid = iter(range(1, 10**6))


def _stranger_mail(tenant: TenantSettings, sender: str, token: str | None = None) -> bytes:
    """A mail to a reply address with a random token, as someone guessing tokens sends it."""
    token = token or "".join(secrets.choice(string.ascii_lowercase + "234567") for _ in range(26))
    msg = EmailMessage()
    msg["From"] = f"Someone <{sender}>"
    msg["To"] = msg["Delivered-To"] = tenant.mail.reply_address(token)
    msg["Subject"] = "Re: your DPA"
    msg["Date"] = formatdate()
    msg["Message-ID"] = make_msgid(domain=sender.partition("@")[2])
    msg.set_content("AKKOORD")
    return bytes(msg)


async def _flood(rt, tenant: TenantSettings, senders: list[str]) -> None:
    """Store every mail first, then let the workers (two at once) process them."""
    for sender in senders:
        raw = _stranger_mail(tenant, sender)
        assert await mail.store_inbound(rt, tenant.slug, "INBOX", 1, next(_uid), raw)
    await run_jobs_until_idle(rt, concurrency=2)


async def _notes(rt, tenant: TenantSettings) -> list[Notification]:
    async with scoped(rt) as s:
        rows = await s.scalars(
            select(Notification)
            .where(Notification.tenant_id == rt.tenant_ids[tenant.slug])
            .order_by(Notification.id)
        )
        return list(rows.all())


async def _kept(rt, tenant: TenantSettings, outcome: str) -> tuple[int, int]:
    """(messages kept with this outcome, audit events recording it) of the tenant."""
    tid = rt.tenant_ids[tenant.slug]
    async with scoped(rt) as s:
        mails = await s.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.tenant_id == tid, Message.outcome == outcome)
        )
        events = await s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.tenant_id == tid, AuditEvent.action == f"message.{outcome}")
        )
        return mails, events


async def test_forty_random_tokens_from_one_stranger_make_one_notice(runtime_factory):
    a, b = make_tenant(), make_tenant()
    rt = await runtime_factory([a, b])
    await _flood(rt, b, [ATTACKER])  # tenant B heard of the same stranger before
    await _flood(rt, a, [ATTACKER] * 40)
    assert await _kept(rt, a, "unknown_token") == (40, 40)
    (note,) = await _notes(rt, a)
    assert note.kind == "unknown_token" and note.delivered_at is None
    assert note.count == 40
    assert note.text.startswith(f"From {ATTACKER}: 40 mails with unknown reply addresses since ")
    assert note.text.endswith("; all kept, none used.")
    # A second sender gets a notice of its own; the first one's count stays.
    await _flood(rt, a, ["other@elsewhere.example"] * 3)
    first, second = await _notes(rt, a)
    assert first.count == 40 and "From other@elsewhere.example: 3 mails" in second.text
    # Tenant B's notice is its own: one mail, told with its detail, untouched by A's flood.
    (b_note,) = await _notes(rt, b)
    assert b_note.count == 1 and b_note.text == (
        "A mail matched no open contract; it was kept, not used (no open contract of this "
        f"tenant matches the reply address; from {ATTACKER})."
    )
    assert await _kept(rt, b, "unknown_token") == (1, 1)


async def test_a_stranger_rotating_senders_makes_one_tenant_wide_notice(runtime_factory):
    tenant = make_tenant()
    rt = await runtime_factory([tenant])
    many = [f"spam{n}@rotating.example" for n in range(SENDERS_PER_WINDOW + 7)]
    await _flood(rt, tenant, many + many)  # each sender twice
    assert await _kept(rt, tenant, "unknown_token") == (2 * len(many), 2 * len(many))
    # The first senders have a notice each; the rest share one for the tenant.
    *own, wide = await _notes(rt, tenant)
    assert len(own) == SENDERS_PER_WINDOW
    assert all(n.text.startswith(f"From {s}: 2 mails ") for n, s in zip(own, many, strict=False))
    assert wide.count == 14 and wide.text.startswith(
        f"From 7 other senders (more than {SENDERS_PER_WINDOW} in the hour: counted together): "
        "14 mails with unknown reply addresses since "
    )
    assert all(n.delivered_at is None for n in [*own, wide])


async def test_the_rest_of_a_window_waits_for_its_end_once_staff_were_told(runtime_factory):
    tenant = make_tenant()
    rt = await runtime_factory([tenant])
    await _flood(rt, tenant, [ATTACKER] * 2)
    (first,) = await _notes(rt, tenant)
    async with scoped(rt) as s:  # what the staff chat does once it sent a notice
        await s.execute(
            update(Notification).where(Notification.id == first.id).values(delivered_at=func.now())
        )
    await _flood(rt, tenant, [ATTACKER] * 5)
    told, rest = await _notes(rt, tenant)
    assert told.count == 2 and rest.count == 5 and rest.part == 2
    assert rest.delivered_at is None and rest.deliver_after == told.window_start + WINDOW
    assert rest.text.startswith(f"From {ATTACKER}: 5 more mails with unknown reply addresses ")
    # An hour later (rows aged by hand): the flood goes on, so the next hour's notice is held
    # to that hour's end as well, while a new sender is told at once.
    async with scoped(rt) as s:
        await s.execute(
            update(Notification)
            .where(Notification.tenant_id == rt.tenant_ids[tenant.slug])
            .values(
                window_start=Notification.window_start - WINDOW,
                deliver_after=Notification.deliver_after - WINDOW,
            )
        )
    await _flood(rt, tenant, [ATTACKER, "new@elsewhere.example"])
    *_, going_on, new = await _notes(rt, tenant)
    assert going_on.part == 1 and going_on.deliver_after == going_on.window_start + WINDOW
    assert new.deliver_after is None and "from new@elsewhere.example" in new.text
    assert await _kept(rt, tenant, "unknown_token") == (9, 9)


async def test_replies_from_an_uninvited_sender_are_grouped_too(runtime_factory):
    tenant = make_tenant()
    rt = await runtime_factory([tenant])
    cid = await contracts.add_customer(
        rt, tenant.slug, name="MOOI", representative="K. Piskor", email="k@mooi.example"
    )
    contract_id = await contracts.invite(rt, tenant.slug, cid)
    await run_jobs_until_idle(rt)
    async with scoped(rt) as s:
        token = (await s.get(Contract, contract_id)).reply_token
    for _ in range(6):
        raw = _stranger_mail(tenant, ATTACKER, token)
        await mail.store_inbound(rt, tenant.slug, "INBOX", 1, next(_uid), raw)
    await run_jobs_until_idle(rt, concurrency=2)
    assert await _kept(rt, tenant, "rejected_sender") == (6, 6)
    (note,) = [n for n in await _notes(rt, tenant) if n.kind == "rejected_sender"]
    assert note.text.startswith(f"From {ATTACKER}: 6 replies not from the invited address")
