"""Bad replies: no crash, raw mail kept, outcome recorded, the right answer (or none) sent."""

from __future__ import annotations

import email
import email.policy
import mailbox
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from bot import contracts, mail
from bot.app.demo import DEMO_ANSWERS, customer_reply
from bot.jobs import run_jobs_until_idle
from storage.models import Contract, Message
from tests.fixtures.runtime import make_tenant, scoped

INVITED = "karolien@mooi-schoonheid.example"


@pytest.fixture
async def invited(runtime_factory):
    """A tenant on the Maildir transport with one invited customer: (runtime, slug, invitation)."""
    tenant = make_tenant(transport="maildir")
    rt = await runtime_factory([tenant])
    cid = await contracts.add_customer(
        rt,
        tenant.slug,
        name="MOOI Schoonheidsverzorging",
        enterprise_number="BE0840.465.705",
        representative="Karolien Piskor",
        email=INVITED,
    )
    contract_id = await contracts.invite(rt, tenant.slug, cid)
    await run_jobs_until_idle(rt)
    (invitation,) = _outbox(rt, tenant.slug)
    return rt, tenant.slug, contract_id, invitation


def _outbox(rt, slug) -> list[EmailMessage]:
    box = mailbox.Maildir(rt.maildir(slug, "outbox"), create=False)
    msgs = [
        email.message_from_bytes(box.get_bytes(k), policy=email.policy.default)
        for k in box.iterkeys()
    ]
    return msgs  # type: ignore[return-value]


async def _deliver(rt, slug, raw: bytes, uid: int) -> Message:
    row_id = await mail.store_inbound(rt, slug, "INBOX", 1, uid, raw)
    assert row_id is not None
    await run_jobs_until_idle(rt)
    async with scoped(rt) as s:
        return await s.get(Message, row_id)


async def _outgoing(rt, slug) -> int:
    async with scoped(rt) as s:
        return await s.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.tenant_id == rt.tenant_ids[slug], Message.direction == "out")
        )


async def test_reply_from_another_address_is_kept_not_applied_not_answered(invited):
    rt, slug, contract_id, invitation = invited
    raw = customer_reply(invitation, DEMO_ANSWERS, "intruder@elsewhere.example")
    before = await _outgoing(rt, slug)
    row = await _deliver(rt, slug, raw, 1)
    assert row.outcome == "rejected_sender" and row.raw == raw
    assert await _outgoing(rt, slug) == before  # the sender learns nothing
    async with scoped(rt) as s:
        assert (await s.get(Contract, contract_id)).state == "invited"


async def test_unknown_token_gets_no_answer(invited):
    rt, slug, contract_id, invitation = invited
    raw = customer_reply(invitation, DEMO_ANSWERS, INVITED)
    local = str(invitation["Reply-To"]).split("@")[0]
    forged = raw.replace(local.encode(), b"dpa+" + b"a" * 26)
    # Without In-Reply-To/References nothing ties the mail to a contract.
    orphan = forged.replace(b"In-Reply-To:", b"X-Old-In-Reply-To:").replace(
        b"References:", b"X-Old-References:"
    )
    before = await _outgoing(rt, slug)
    row = await _deliver(rt, slug, orphan, 2)
    assert row.outcome == "unknown_token" and row.raw == orphan
    assert await _outgoing(rt, slug) == before
    async with scoped(rt) as s:
        assert (await s.get(Contract, contract_id)).state == "invited"


async def test_wrong_token_but_in_reply_to_our_mail_is_routed_by_it(invited):
    rt, slug, contract_id, invitation = invited
    raw = customer_reply(invitation, DEMO_ANSWERS, INVITED)
    local = str(invitation["Reply-To"]).split("@")[0]
    # Some clients answer to From (no plus address): In-Reply-To still names our invitation.
    plain = raw.replace(local.encode() + b"@", b"dpa@")
    row = await _deliver(rt, slug, plain, 3)
    assert row.outcome == "applied" and row.contract_id == contract_id


async def test_empty_body_from_invited_address_asks_for_every_field(invited):
    rt, slug, contract_id, invitation = invited
    raw = customer_reply(invitation, "", INVITED)
    row = await _deliver(rt, slug, raw, 4)
    assert row.outcome == "followup_sent"
    (followup,) = [m for m in _outbox(rt, slug) if m["X-Dpabot-Kind"] == "followup"]
    text = followup.get_body(preferencelist=("plain",)).get_content()
    for label in (
        "Onderwerp van de verwerking",
        "Duur van de verwerking",
        "Aard en doel van de verwerking",
    ):
        assert label in text
    async with scoped(rt) as s:
        assert (await s.get(Contract, contract_id)).state == "collecting"


async def test_partial_answers_name_only_the_missing_fields(invited):
    rt, slug, _, invitation = invited
    raw = customer_reply(invitation, "1. Klantenbeheer\n2: Zolang het contract loopt\n", INVITED)
    row = await _deliver(rt, slug, raw, 5)
    assert row.outcome == "followup_sent"
    (followup,) = [m for m in _outbox(rt, slug) if m["X-Dpabot-Kind"] == "followup"]
    text = followup.get_body(preferencelist=("plain",)).get_content()
    assert "Aard en doel van de verwerking" in text
    assert "Categorieën van betrokkenen" in text


async def test_broken_mime_is_kept_and_does_not_stop_the_service(invited):
    rt, slug, _, invitation = invited
    reply_to = str(invitation["Reply-To"]).encode()
    raw = (
        b"From: "
        + INVITED.encode()
        + b"\r\nTo: "
        + reply_to
        + b"\r\nSubject: Re\r\nMessage-ID: <broken@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="zzz"\r\n\r\n--zzz\r\n'
        b"Content-Type: text/plain; charset=unknown-8bit-xx\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n"
    )
    row = await _deliver(rt, slug, raw, 6)
    assert row.raw == raw
    assert row.outcome in ("followup_sent", "shunted")
    # The next, good reply is still handled.
    ok = await _deliver(rt, slug, customer_reply(invitation, DEMO_ANSWERS, INVITED), 7)
    assert ok.outcome == "applied"


async def test_same_mail_twice_is_stored_once(invited):
    rt, slug, _, invitation = invited
    raw = customer_reply(invitation, DEMO_ANSWERS, INVITED)
    first = await mail.store_inbound(rt, slug, "INBOX", 1, 8, raw)
    again = await mail.store_inbound(rt, slug, "INBOX", 1, 8, raw)
    other_uid = await mail.store_inbound(rt, slug, "INBOX", 1, 9, raw)
    assert first is not None and again is None and other_uid is None


async def test_auto_reply_never_gets_an_answer(invited):
    rt, slug, _, invitation = invited
    raw = customer_reply(invitation, "Ik ben afwezig tot maandag.", INVITED)
    raw = raw.replace(b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:", 1)
    before = await _outgoing(rt, slug)
    row = await _deliver(rt, slug, raw, 10)
    assert row.outcome == "ignored_auto_reply"
    assert await _outgoing(rt, slug) == before


async def test_finalize_running_twice_sends_one_final_version(invited):
    """Jobs are delivered at least once: a repeated finalize must not mail a second PDF."""
    rt, slug, contract_id, invitation = invited
    await _deliver(rt, slug, customer_reply(invitation, DEMO_ANSWERS, INVITED), 11)
    async with scoped(rt) as s:
        version = (await s.get(Contract, contract_id)).current_version
    await contracts.finalize(rt, slug, contract_id, version)
    finals = [m for m in _outbox(rt, slug) if m["X-Dpabot-Kind"] == "final"]
    async with scoped(rt) as s:
        queued = await s.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.contract_id == contract_id, Message.kind == "final")
        )
    assert len(finals) == 1 and queued == 1


async def test_answer_the_contract_cannot_print_is_asked_again(invited):
    rt, slug, contract_id, invitation = invited
    answers = DEMO_ANSWERS.replace("Klanten van het schoonheidsinstituut.", "Klanten 💅")
    row = await _deliver(rt, slug, customer_reply(invitation, answers, INVITED), 12)
    assert row.outcome == "followup_sent"
    (followup,) = [m for m in _outbox(rt, slug) if m["X-Dpabot-Kind"] == "followup"]
    text = followup.get_body(preferencelist=("plain",)).get_content()
    assert "Categorieën van betrokkenen" in text and "niet kan afdrukken" in text
    async with scoped(rt) as s:
        assert (await s.get(Contract, contract_id)).state == "collecting"


async def test_staff_are_notified_of_mail_that_is_not_used(invited):
    from storage.models import Notification

    rt, slug, _, invitation = invited
    row = await _deliver(
        rt, slug, customer_reply(invitation, DEMO_ANSWERS, "x@elsewhere.example"), 13
    )
    async with scoped(rt) as s:
        notes = (
            await s.scalars(
                select(Notification).where(Notification.tenant_id == rt.tenant_ids[slug])
            )
        ).all()
    assert [(n.kind, n.subject) for n in notes] == [("rejected_sender", f"message:{row.id}")]
    assert "not invited" in notes[0].text
