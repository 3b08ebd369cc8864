"""An outsider's second round of attacks (issue: attack2), each through the service's own
inbound pipeline on real PostgreSQL: mail stored as the listener stores it, the job run.

The attacker holds the reply token (a forwarded invitation) and writes every header of his mail
himself; where the tenant trusts its mail server (`authserv_id`), he also chooses what that
server writes from his envelope: the SMTP ``MAIL FROM`` address, which a receiving server puts
into its own Authentication-Results as ``smtp.mailfrom``.
"""

from __future__ import annotations

import base64
import re
import time
from email.message import EmailMessage

import dkim

from bot.app.demo import DEMO_ANSWERS, customer_reply
from tests.fixtures.runtime import make_tenant
from tests.integration.test_bad_input import _outbox
from tests.mails import delivery_report, dkim_key
from tests.trust_kit import (
    INVITED,
    PARTIAL,
    count_out,
    deliver,
    invited,
    notes,
    state_of,
    with_header,
)

DOMAIN = INVITED.partition("@")[2]  # mooi-schoonheid.example
OURS = "mx.example.be"


def _numbered(raw: bytes, n: object) -> bytes:
    return raw.replace(b"Message-ID: <", f"Message-ID: <{n}.".encode(), 1)


async def test_a_pass_inside_another_results_value_is_no_pass(runtime_factory):
    """Our server's own header, but the "pass" in it is the attacker's envelope sender."""
    tenant = make_tenant(authserv_id=OURS)
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    ar = f"Authentication-Results: {OURS};"
    forged = [
        # MAIL FROM:<dmarc=pass.header.from=x@www.mooi-schoonheid.example>: "=" is a plain
        # character of a local part; the server's own DMARC verdict (fail) comes after it.
        f"{ar} dkim=none; spf=softfail smtp.mailfrom=dmarc=pass.header.from=x@www.{DOMAIN}; "
        f"dmarc=fail (p=none dis=none) header.from={DOMAIN}",
        # A quoted local part may hold spaces (RFC 5321), and RFC 8601 writes it as it is.
        f'{ar} dkim=none; spf=pass smtp.mailfrom="dkim=pass header.d={DOMAIN} x"@evil.example; '
        f"dmarc=none header.from={DOMAIN}",
        # Inside a quoted property value of another method.
        f'{ar} arc=pass smtp.remote-ip=192.0.2.1 arc.chain="dkim=pass header.d={DOMAIN} x"',
        # A method that only ends in "dkim".
        f"{ar} x-dkim=pass header.d={DOMAIN}",
        # A DMARC pass the server reached for another From than the one we read (it read the
        # headers otherwise): DMARC's header.from is the From domain itself, never a cousin.
        f"{ar} dmarc=pass header.from=www.{DOMAIN}",
        # Two DMARC verdicts: the failure decides.
        f"{ar} dmarc=pass header.from={DOMAIN}; dmarc=fail header.from={DOMAIN}",
        # Not readable as RFC 8601 (a comment never closed): nothing in it counts.
        f"{ar} dkim=pass (unclosed header.d={DOMAIN}",
    ]
    before = await count_out(rt, tenant.slug)
    for n, line in enumerate(forged):
        raw = with_header(_numbered(customer_reply(inv, DEMO_ANSWERS, INVITED), f"ar{n}"), line)
        row = await deliver(rt, tenant.slug, raw)
        assert row.outcome == "unauthenticated", (line, row.outcome, row.detail)
        assert row.raw == raw
    assert await state_of(rt, cid) == "invited"
    assert await count_out(rt, tenant.slug) == before
    assert "unauthenticated" in await notes(rt, tenant.slug)
    # What real servers write still counts (OpenDKIM + OpenDMARC, rspamd, Gmail's shapes).
    real = [
        f"{ar} dkim=pass (2048-bit key; unprotected) header.d={DOMAIN} header.i=@{DOMAIN} "
        f"header.a=rsa-sha256 header.s=sel header.b=AbCd+/12",
        f"{ar} dkim=pass header.d=mail.{DOMAIN} header.s=sel header.b=Zz9=; "
        f"spf=pass ({OURS}: domain of {INVITED} designates 192.0.2.1 as permitted sender) "
        f"smtp.mailfrom={INVITED}; dmarc=pass (policy=none) header.from={DOMAIN}",
        f"Authentication-Results: {OURS} 1; spf=pass smtp.mailfrom={DOMAIN}; "
        f"dmarc=pass (p=NONE sp=NONE dis=NONE) header.from={DOMAIN.upper()}",
        f'{ar} dmarc=pass reason="aligned DKIM; aligned SPF" policy.dmarc=none '
        f"header.from={DOMAIN}",
    ]
    for n, line in enumerate(real):
        raw = with_header(_numbered(customer_reply(inv, PARTIAL, INVITED), f"ok{n}"), line)
        row = await deliver(rt, tenant.slug, raw)
        assert row.outcome == "followup_sent", (line, row.outcome, row.detail)


async def test_dkim_verify_aligns_the_signature_it_verified(runtime_factory):
    """The attacker signs with his own domain's key (a valid signature) and hides a second
    DKIM-Signature naming the customer's domain behind a bare CR: Python's parser splits the
    line there and reads the hidden one first; dkimpy does not and verifies the attacker's."""
    tenant = make_tenant(dkim_verify=True)
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    pem, record = dkim_key()
    rt.dkim_dns = lambda name, timeout=5: record if name == b"sel._domainkey.evil.example." else b""
    raw = _numbered(customer_reply(inv, DEMO_ANSWERS, INVITED), "dkim")
    sig = dkim.sign(raw, b"sel", b"evil.example", pem, include_headers=[b"from", b"subject"])
    hidden = (
        b"X-Note: hello\rDKIM-Signature: v=1; a=rsa-sha256; d=" + DOMAIN.encode() + b"; s=sel; "
        b"h=from; bh=AAAA; b=AAAA\r\n"
    )
    mail = hidden + sig + raw
    assert dkim.verify(mail, dnsfunc=rt.dkim_dns)  # a valid signature, of evil.example
    row = await deliver(rt, tenant.slug, mail)
    assert row.outcome in ("rejected_sender", "unauthenticated"), (row.outcome, row.detail)
    assert await state_of(rt, cid) == "invited"
    # The attacker's signature alone, no trick: not aligned with the From domain.
    plain = dkim.sign(
        _numbered(raw, "plain"), b"sel", b"evil.example", pem, include_headers=[b"from"]
    )
    row = await deliver(rt, tenant.slug, plain + _numbered(raw, "plain"))
    assert row.outcome == "unauthenticated"
    assert await state_of(rt, cid) == "invited"


def _forged_dsn(to: str, naming: str, n: int) -> bytes:
    """What anyone can send: a delivery report that names a contract's reply address."""
    return delivery_report(
        sender="Mail Delivery System <MAILER-DAEMON@evil.example>",
        to=to,
        message_id=f"<forged-dsn-{n}-{time.monotonic_ns()}@evil.example>",
        recipient=INVITED,
        headers=f"Reply-To: {naming}\n",
    )


async def test_a_delivery_report_never_closes_a_contract(runtime_factory):
    """A bounce passes no sender check (anyone can write one, naming the token of a forwarded
    invitation or a Message-ID from a thread he was copied on): it is kept and staff told, but
    the contract stays open and the customer can go on."""
    tenant = make_tenant(authserv_id=OURS)
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    before = await count_out(rt, tenant.slug)
    naming = [str(inv["Reply-To"]), f"x\nIn-Reply-To: {inv['Message-ID']}"]
    for n, name in enumerate(naming):
        row = await deliver(rt, tenant.slug, _forged_dsn(tenant.mail.address, name, n))
        assert row.outcome == "bounce" and row.contract_id == cid, (row.outcome, row.detail)
        assert "open" in row.detail, row.detail
        assert await state_of(rt, cid) == "invited"
    assert await count_out(rt, tenant.slug) == before  # nobody answered
    assert "bounce" in await notes(rt, tenant.slug)
    # The customer's reply still counts: the token lives.
    ok = with_header(
        customer_reply(inv, PARTIAL, INVITED),
        f"Authentication-Results: {OURS}; dmarc=pass header.from={DOMAIN}",
    )
    assert (await deliver(rt, tenant.slug, ok)).outcome == "followup_sent"
    assert await state_of(rt, cid) == "collecting"


async def test_headers_naming_the_customer_beside_another_from_count_for_nothing(
    runtime_factory,
):
    """Sender:, Reply-To:, Return-Path: and an encoded From naming the customer: only an
    unambiguous From is the sender, and here it is the attacker (held before this round)."""
    tenant = make_tenant()
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    attacker = "attacker@evil.example"
    shapes = [
        [f"Sender: {INVITED}", f"Reply-To: {INVITED}", f"Return-Path: <{INVITED}>"],
        [f"Resent-From: {INVITED}", f"X-Original-From: {INVITED}"],
    ]
    for n, lines in enumerate(shapes):
        raw = _numbered(customer_reply(inv, DEMO_ANSWERS, attacker), f"hdr{n}")
        for line in lines:
            raw = with_header(raw, line)
        row = await deliver(rt, tenant.slug, raw)
        assert row.outcome == "rejected_sender", (lines, row.outcome)
    # From as base64 encoded words whose decoded display name is the customer's address.
    encoded = base64.b64encode(INVITED.encode()).decode()
    raw = customer_reply(inv, DEMO_ANSWERS, attacker).replace(
        b"From: Karolien Piskor <", f"From: =?utf-8?b?{encoded}?= <".encode(), 1
    )
    row = await deliver(rt, tenant.slug, _numbered(raw, "b64"))
    assert row.outcome == "rejected_sender" and INVITED in row.detail, row.detail
    assert await state_of(rt, cid) == "invited"


async def test_a_mail_cannot_take_the_key_of_a_row_dpabot_is_yet_to_write(runtime_factory):
    """A Message-ID is unique per tenant, and dpabot names its own rows in @dpabot.invalid (a
    chat message is <telegram-CHAT-UPDATE@dpabot.invalid>): a mail claiming such a key first
    would have the customer's later chat message dropped as a duplicate, unanswered."""
    tenant = make_tenant()
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    squat = "<telegram-4242-1001@dpabot.invalid>"
    raw = customer_reply(inv, "AKKOORD", "attacker@evil.example")
    raw = re.sub(rb"Message-ID: <[^>]*>", f"Message-ID: {squat}".encode(), raw, count=1)
    row = await deliver(rt, tenant.slug, raw)
    assert row.message_id != squat and row.message_id.startswith("<sha256-")
    assert row.outcome == "rejected_sender"  # kept, recorded, as any other stranger's mail
    async with rt.db.transaction() as s:
        chat = await rt.repo(s, tenant.slug).insert_message(
            contract_id=cid,
            direction="in",
            channel="telegram",
            kind="chat",
            message_id=squat,
            from_addr="telegram:4242",
            subject="",
            raw=b"{}",
            raw_sha256="0" * 64,
            outcome="pending",
        )
    assert chat is not None  # the chat's own row is written


async def test_a_token_or_fingerprint_names_its_own_contract_only(runtime_factory):
    """The same person is a customer of tenants A and B, both finals out. Her AKKOORD threaded
    under A's final (quoting A's fingerprint) but sent to B's reply address signs nothing at
    B, and nothing at A; a token only in the Subject, or cut short, routes nowhere. (Held
    before this round: recorded here as the attempts they are.)"""
    a, b = make_tenant(), make_tenant()
    rt, [(cid_a, inv_a), (cid_b, inv_b)] = await invited(runtime_factory, a, b)
    finals = {}
    for t, inv in ((a, inv_a), (b, inv_b)):
        await deliver(rt, t.slug, customer_reply(inv, DEMO_ANSWERS, INVITED))
        (finals[t.slug],) = [m for m in _outbox(rt, t.slug) if m["X-Dpabot-Kind"] == "final"]
    assert await state_of(rt, cid_a) == await state_of(rt, cid_b) == "awaiting_signature"
    token_a = str(inv_a["Reply-To"]).split("+")[1].split("@")[0]
    token_b = str(inv_b["Reply-To"]).split("+")[1].split("@")[0]
    # A's thread and fingerprint, B's reply address.
    cross = customer_reply(finals[a.slug], "AKKOORD", INVITED)
    cross = cross.replace(f"+{token_a}@{a.slug}".encode(), f"+{token_b}@{b.slug}".encode())
    row = await deliver(rt, b.slug, _numbered(cross, "cross"))
    assert row.outcome == "not_counted" and row.contract_id == cid_b
    assert await state_of(rt, cid_a) == await state_of(rt, cid_b) == "awaiting_signature"
    # The token in the Subject only (the address has none), and the token cut short, with no
    # thread headers: nothing names a contract.
    bare = _bare_akkoord(b.mail.address, f"akkoord {token_b}", "subject")
    assert (await deliver(rt, b.slug, bare)).outcome == "unknown_token"
    local, _, domain = b.mail.address.partition("@")
    short = _bare_akkoord(f"{local}+{token_b[:20]}@{domain}", "akkoord", "short")
    assert (await deliver(rt, b.slug, short)).outcome == "unknown_token"
    assert await state_of(rt, cid_b) == "awaiting_signature"
    # Her real acceptance of B's final signs B's contract only.
    row = await deliver(rt, b.slug, customer_reply(finals[b.slug], "AKKOORD", INVITED))
    assert row.outcome == "applied"
    assert await state_of(rt, cid_b) in ("customer_signed", "completed")
    assert await state_of(rt, cid_a) == "awaiting_signature"


def _bare_akkoord(to: str, subject: str, n: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Karolien Piskor <{INVITED}>"
    mail["To"] = mail["Delivered-To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = f"<bare-{n}-{time.monotonic_ns()}@mooi-schoonheid.example>"
    mail.set_content("AKKOORD\n\nKarolien")
    return bytes(mail)
