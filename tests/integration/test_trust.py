"""Trust: only the invited (or allowed) sender, with a live token of this tenant, is used."""

from __future__ import annotations

import email
import email.policy
import time
from email.message import EmailMessage

import dkim
import pytest
import sqlalchemy.exc
from sqlalchemy import select

from bot import mail
from bot.app.demo import DEMO_ANSWERS, customer_reply
from bot.mail import inbound
from storage.models import Contract, Message, Notification
from tests.fixtures.runtime import make_tenant, scoped
from tests.integration.test_bad_input import _outbox
from tests.mails import delivery_report, dkim_key
from tests.trust_kit import (
    INVITED,
    PARTIAL,
    count_out,
    deliver,
    invited,
    next_uid,
    notes,
    state_of,
    with_header,
)


async def test_forged_from_is_kept_refused_and_staff_told(runtime_factory):
    tenant = make_tenant()
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    before = await count_out(rt, tenant.slug)
    row = await deliver(
        rt, tenant.slug, customer_reply(inv, DEMO_ANSWERS, "boss@mooi-schoonheid.example")
    )
    assert row.outcome == "rejected_sender"
    assert await count_out(rt, tenant.slug) == before
    assert await state_of(rt, cid) == "invited"
    assert "rejected_sender" in await notes(rt, tenant.slug)


async def test_tenant_may_allow_the_same_domain_or_named_addresses(runtime_factory):
    same = make_tenant(allow_same_domain=True)
    named = make_tenant(allowed_senders={INVITED: ["office@elsewhere.example"]})
    rt, [(_, inv1), (_, inv2)] = await invited(runtime_factory, same, named)
    ok = await deliver(rt, same.slug, customer_reply(inv1, PARTIAL, "boss@mooi-schoonheid.example"))
    assert ok.outcome == "followup_sent"
    other = await deliver(rt, same.slug, customer_reply(inv1, PARTIAL, "x@other.example"))
    assert other.outcome == "rejected_sender"
    ok2 = await deliver(rt, named.slug, customer_reply(inv2, PARTIAL, "office@elsewhere.example"))
    assert ok2.outcome == "followup_sent"
    no = await deliver(
        rt, named.slug, customer_reply(inv2, PARTIAL, "boss@mooi-schoonheid.example")
    )
    assert no.outcome == "rejected_sender"


async def test_wrong_token_is_refused(runtime_factory):
    tenant = make_tenant()
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    raw = customer_reply(inv, DEMO_ANSWERS, INVITED)
    token = str(inv["Reply-To"]).split("+")[1].split("@")[0]
    forged = raw.replace(token.encode(), b"b" * 26)
    before = await count_out(rt, tenant.slug)
    row = await deliver(rt, tenant.slug, forged)
    # A token of no contract: the In-Reply-To does not rescue it, the token decides.
    assert row.outcome == "unknown_token"
    assert await count_out(rt, tenant.slug) == before and await state_of(rt, cid) == "invited"
    assert "unknown_token" in await notes(rt, tenant.slug)


async def test_replayed_token_after_completion_or_expiry_is_dead(runtime_factory):
    tenant = make_tenant()
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    for state in ("completed", "declined", "expired"):
        async with scoped(rt) as s:
            (await s.get(Contract, cid)).state = state
        before = await count_out(rt, tenant.slug)
        row = await deliver(rt, tenant.slug, customer_reply(inv, DEMO_ANSWERS, INVITED))
        assert row.outcome == "closed_contract", state
        assert await count_out(rt, tenant.slug) == before
        assert await state_of(rt, cid) == state
    # Told once, counting all three (a sender's replies to closed contracts are grouped).
    assert (await notes(rt, tenant.slug)).count("closed_contract") == 1
    async with scoped(rt) as s:
        text = await s.scalar(
            select(Notification.text).where(
                Notification.kind == "closed_contract",
                Notification.tenant_id == rt.tenant_ids[tenant.slug],
            )
        )
    assert text.startswith(f"From {INVITED}: 3 replies to contracts already closed")


async def test_reply_to_another_tenants_token_is_refused(runtime_factory):
    a, b = make_tenant(), make_tenant()
    rt, [(cid_a, inv_a), _] = await invited(runtime_factory, a, b)
    raw = customer_reply(inv_a, DEMO_ANSWERS, INVITED)
    # Delivered to B's mailbox as is, and with A's token on B's domain: neither reaches A's.
    on_b = raw.replace(f"@{a.slug}.example".encode(), f"@{b.slug}.example".encode())
    for n, variant in enumerate((raw, on_b)):
        before = await count_out(rt, b.slug)
        row = await deliver(
            rt,
            b.slug,
            variant.replace(b"Message-ID: <", f"Message-ID: <v{n}".encode()),
        )
        assert row.outcome == "unknown_token" and row.contract_id is None
        assert await count_out(rt, b.slug) == before
    assert await state_of(rt, cid_a) == "invited"


async def test_own_mail_auto_replies_and_bounces_get_no_answer(runtime_factory):
    tenant = make_tenant()
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    before = await count_out(rt, tenant.slug)
    own = customer_reply(inv, PARTIAL, tenant.mail.address)
    assert (await deliver(rt, tenant.slug, own)).outcome == "ignored_own_mail"
    auto = with_header(customer_reply(inv, PARTIAL, INVITED), "Auto-Submitted: auto-replied")
    assert (await deliver(rt, tenant.slug, auto)).outcome == "ignored_auto_reply"
    assert await count_out(rt, tenant.slug) == before
    assert await state_of(rt, cid) == "invited"


def _dsn(original: EmailMessage, to: str) -> bytes:
    return delivery_report(
        sender="Mail Delivery System <MAILER-DAEMON@mx.mooi-schoonheid.example>",
        to=to,
        message_id=f"<dsn-{time.monotonic_ns()}@mx.example>",
        recipient=INVITED,
        headers="".join(f"{k}: {v}\n" for k, v in original.items()),
    )


async def test_bounce_of_our_mail_is_told_to_staff_and_the_contract_stays_open(runtime_factory):
    tenant = make_tenant()
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    before = await count_out(rt, tenant.slug)
    row = await deliver(rt, tenant.slug, _dsn(inv, tenant.mail.address))
    assert row.outcome == "bounce" and row.contract_id == cid
    assert row.detail.startswith(f"contract {cid} stays invited")
    assert await count_out(rt, tenant.slug) == before
    assert "bounce" in await notes(rt, tenant.slug)
    # Anyone can write a delivery report: it closes nothing, the token lives (staff decide).
    assert await state_of(rt, cid) == "invited"
    late = await deliver(rt, tenant.slug, customer_reply(inv, DEMO_ANSWERS, INVITED))
    assert late.outcome == "applied"


async def test_authentication_results_only_from_our_authserv_id_count(runtime_factory):
    tenant = make_tenant(authserv_id="mx.example.be")
    rt, [(_, inv)] = await invited(runtime_factory, tenant)
    ar, d = "Authentication-Results:", "header.d=mooi-schoonheid.example"
    cases = [
        ("", "unauthenticated"),  # our server wrote nothing: no trust
        # Forged by the sender (another authserv-id): ignored.
        (
            f"{ar} evil.example; dkim=pass {d}; dmarc=pass",
            "unauthenticated",
        ),
        (
            f"{ar} mx.example.be; dkim=fail {d}; dmarc=fail",
            "unauthenticated",
        ),
        (
            "Authentication-Results: mx.example.be; dkim=pass header.d=other.example",
            "unauthenticated",
        ),
        (
            f"{ar} mx.example.be; dkim=pass (good) {d}",
            "followup_sent",
        ),
        (
            f"{ar} mx.example.be; spf=pass; dmarc=pass header.from=mooi-schoonheid.example",
            "followup_sent",
        ),
    ]
    for line, outcome in cases:
        raw = customer_reply(inv, PARTIAL, INVITED)
        row = await deliver(rt, tenant.slug, with_header(raw, line) if line else raw)
        assert row.outcome == outcome, line
    assert "unauthenticated" in await notes(rt, tenant.slug)


async def test_dkim_verified_with_dkimpy_and_an_injected_key(runtime_factory):
    tenant = make_tenant(dkim_verify=True)
    rt, [(_, inv)] = await invited(runtime_factory, tenant)
    pem, record = dkim_key()

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return record if name == b"sel._domainkey.mooi-schoonheid.example." else b""

    rt.dkim_dns = dns

    def signed(body: str) -> bytes:
        raw = customer_reply(inv, body, INVITED)
        sig = dkim.sign(
            raw,
            b"sel",
            b"mooi-schoonheid.example",
            pem,
            include_headers=[b"from", b"to", b"subject", b"message-id"],
        )
        return sig + raw

    assert (await deliver(rt, tenant.slug, signed(PARTIAL))).outcome == "followup_sent"
    tampered = signed(PARTIAL).replace(b"Klantenbeheer", b"Alles en nog wat")
    assert (await deliver(rt, tenant.slug, tampered)).outcome == "unauthenticated"
    unsigned = customer_reply(inv, PARTIAL, INVITED)
    assert (await deliver(rt, tenant.slug, unsigned)).outcome == "unauthenticated"


async def test_acceptance_counts_only_as_answer_to_the_final_mail(runtime_factory):
    tenant = make_tenant()
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    # Before any final version: AKKOORD is answered with an explanation, nothing is signed.
    early = await deliver(rt, tenant.slug, customer_reply(inv, "AKKOORD", INVITED))
    assert early.outcome == "not_counted"
    (note,) = [m for m in _outbox(rt, tenant.slug) if m["X-Dpabot-Kind"] == "followup"]
    assert "definitieve versie" in note.get_body(preferencelist=("plain",)).get_content()
    await deliver(rt, tenant.slug, customer_reply(inv, DEMO_ANSWERS, INVITED))
    assert await state_of(rt, cid) == "awaiting_signature"
    (final,) = [m for m in _outbox(rt, tenant.slug) if m["X-Dpabot-Kind"] == "final"]
    # AKKOORD in the invitation's thread, after the final went out: still not counted.
    again = await deliver(rt, tenant.slug, customer_reply(inv, "AKKOORD", INVITED))
    assert again.outcome == "not_counted" and await state_of(rt, cid) == "awaiting_signature"
    # A client that drops In-Reply-To/References: quoting the final's subject is enough.
    bare = customer_reply(final, "AKKOORD", INVITED)
    bare = bare.replace(b"In-Reply-To:", b"X-Was-In-Reply-To:").replace(
        b"References:", b"X-Was-References:"
    )
    row = await deliver(rt, tenant.slug, bare)
    assert row.outcome == "applied"
    assert await state_of(rt, cid) in ("customer_signed", "completed")


async def test_oversize_mail_and_attachment_are_refused_with_an_answer(runtime_factory):
    tenant = make_tenant(max_message_bytes=64 * 1024, max_attachment_bytes=8 * 1024)
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    big = customer_reply(inv, PARTIAL + "x" * 80 * 1024, INVITED)
    row = await deliver(rt, tenant.slug, big)
    assert row.outcome == "refused_too_large" and row.raw == big
    msg = email.message_from_bytes(
        _attach(customer_reply(inv, PARTIAL, INVITED), 16 * 1024), policy=email.policy.default
    )
    row2 = await deliver(rt, tenant.slug, bytes(msg))
    assert row2.outcome == "refused_attachment"
    texts = [
        m.get_body(preferencelist=("plain",)).get_content()
        for m in _outbox(rt, tenant.slug)
        if m["X-Dpabot-Kind"] == "followup"
    ]
    assert any("0.0625 MB" in t for t in texts) and any("0.00781 MB" in t for t in texts)
    assert await state_of(rt, cid) == "invited"  # nothing applied
    # The sender must be the invited one to get that answer; anyone else learns nothing.
    before = await count_out(rt, tenant.slug)
    assert (
        await deliver(rt, tenant.slug, customer_reply(inv, "y" * 80 * 1024, "x@evil.example"))
    ).outcome == "rejected_sender"
    assert await count_out(rt, tenant.slug) == before


def _attach(raw: bytes, size: int) -> bytes:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    msg.add_attachment(
        b"%PDF-1.7 " + b"0" * size, maintype="application", subtype="pdf", filename="x.pdf"
    )
    return bytes(msg)


def hang(raw: bytes, template_id: str, known: dict[str, str], lang_hint: str | None) -> None:
    """A reply reader stuck on crafted input (runs in the pool worker)."""
    time.sleep(60)


async def test_a_reader_that_hangs_is_stopped_and_the_mail_shunted(runtime_factory, monkeypatch):
    tenant = make_tenant(parse_timeout=3)
    rt, [(_, inv)] = await invited(runtime_factory, tenant)
    monkeypatch.setattr(inbound, "_reader", hang)
    started = time.monotonic()
    row = await deliver(rt, tenant.slug, customer_reply(inv, PARTIAL, INVITED))
    assert row.outcome == "shunted" and "ParseTimeout" in row.detail
    assert time.monotonic() - started < 30
    assert "shunted" in await notes(rt, tenant.slug)
    monkeypatch.undo()
    # The pool was replaced: the next reply is read as usual.
    assert (
        await deliver(rt, tenant.slug, customer_reply(inv, PARTIAL, INVITED))
    ).outcome == "followup_sent"


async def test_outages_are_retried_and_only_the_last_attempt_shunts(runtime_factory, monkeypatch):
    tenant = make_tenant()
    rt, [(_, inv)] = await invited(runtime_factory, tenant)
    row_id = await mail.store_inbound(
        rt, tenant.slug, "INBOX", 1, next_uid(), customer_reply(inv, PARTIAL, INVITED)
    )

    async def down(*args, **kwargs):
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, OSError("connection refused"))

    monkeypatch.setattr(inbound, "_process", down)
    with pytest.raises(sqlalchemy.exc.OperationalError):
        await mail.process_inbound(rt, tenant.slug, row_id, final_attempt=False)
    async with scoped(rt) as s:
        assert (await s.get(Message, row_id)).outcome == "pending"
    await mail.process_inbound(rt, tenant.slug, row_id, final_attempt=True)
    async with scoped(rt) as s:
        assert (await s.get(Message, row_id)).outcome == "shunted"

    async def broken(*args, **kwargs):
        raise ValueError("unparseable")

    monkeypatch.setattr(inbound, "_process", broken)
    other = await mail.store_inbound(
        rt, tenant.slug, "INBOX", 1, next_uid(), customer_reply(inv, PARTIAL, INVITED)
    )
    await mail.process_inbound(rt, tenant.slug, other, final_attempt=False)  # no retry
    async with scoped(rt) as s:
        assert (await s.get(Message, other)).outcome == "shunted"
