"""The ways a non-customer once got a contract completed, each refused at its root (issue 13).

Every test drives the service's own inbound pipeline on real PostgreSQL, as an attacker who
holds a forwarded invitation (the reply token) and writes every header himself.
"""

from __future__ import annotations

import hashlib
from email.message import EmailMessage

from sqlalchemy import select

from bot.app.demo import DEMO_ANSWERS, customer_reply
from bot.contracts import negotiation
from bot.domain import fingerprint
from bot.jobs import run_jobs_until_idle
from storage.models import ChangeRequest, Contract, ContractVersion, Signature
from tests.fixtures.runtime import make_tenant, scoped
from tests.integration.test_bad_input import _outbox
from tests.trust_kit import INVITED, count_out, deliver, invited, notes, state_of, with_header

ATTACKER = "attacker@evil.example"
CHANGE_5 = (
    'Wij willen artikel 5 wijzigen: "De verwerker schakelt enkel onderaannemers in met onze '
    'voorafgaande specifieke schriftelijke toestemming."'
)


def _from(raw: bytes, *values: str) -> bytes:
    """The reply with its From header replaced by these (several: several From headers)."""
    head, sep, body = raw.partition(b"\n\n")
    lines = [ln for ln in head.split(b"\n") if not ln.lower().startswith(b"from:")]
    froms = [f"From: {v}\r".encode() for v in values]
    return b"\n".join([*froms, *lines]) + sep + body


def _bare(original: EmailMessage) -> bytes:
    """AKKOORD in a new mail to the contract's reply address: nothing of the original."""
    mail = EmailMessage()
    mail["From"] = f"Karolien Piskor <{INVITED}>"
    mail["To"] = mail["Delivered-To"] = str(original["Reply-To"])
    mail["Subject"] = "akkoord"
    mail["Message-ID"] = "<bare.1@mooi-schoonheid.example>"
    mail.set_content("AKKOORD\n\nKarolien")
    return bytes(mail)


def _thread_dropped(raw: bytes) -> bytes:
    """As a client that forgets In-Reply-To and References sends it."""
    return raw.replace(b"In-Reply-To:", b"X-Was-In-Reply-To:").replace(
        b"References:", b"X-Was-References:"
    )


async def _signatures(rt, contract_id: int) -> list[str]:
    async with scoped(rt) as s:
        rows = await s.scalars(select(Signature.party).where(Signature.contract_id == contract_id))
        return list(rows.all())


async def test_from_headers_a_person_reads_as_someone_else_are_refused(runtime_factory):
    tenant = make_tenant()
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    shapes = [
        (f"{INVITED} <{ATTACKER}>",),  # an address as display name, unquoted
        (f"{INVITED}, {ATTACKER}",),  # an address list
        (INVITED, ATTACKER),  # two From headers, the invited address first
        (f'"{INVITED}" <{ATTACKER}>',),  # quoted: the attacker's mailbox, the customer shown
        (f"=?utf-8?q?{INVITED.replace('@', '=40')}?= <{ATTACKER}>",),  # encoded display name
        (f"{INVITED} ({ATTACKER})",),  # a comment naming another address
    ]
    before = await count_out(rt, tenant.slug)
    for n, values in enumerate(shapes):
        raw = _from(customer_reply(inv, DEMO_ANSWERS, INVITED), *values)
        raw = raw.replace(b"Message-ID: <", f"Message-ID: <shape{n}.".encode())
        row = await deliver(rt, tenant.slug, raw)
        assert row.outcome == "rejected_sender", values
        assert row.raw == raw  # kept as it came
        assert "From" in row.detail, row.detail
    # Nothing was applied or answered, and staff heard of it.
    assert await state_of(rt, cid) == "invited"
    assert await count_out(rt, tenant.slug) == before
    assert "rejected_sender" in await notes(rt, tenant.slug)
    # The customer's own From in the usual shapes still works.
    ok = _from(customer_reply(inv, "1. Klantenbeheer\n", INVITED), f'"Piskor, K." <{INVITED}>')
    assert (await deliver(rt, tenant.slug, ok)).outcome == "followup_sent"


async def test_dmarc_pass_counts_only_for_the_from_domain(runtime_factory):
    tenant = make_tenant(authserv_id="mx.example.be")
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    ar = "Authentication-Results: mx.example.be;"
    refused = [
        f"{ar} dmarc=pass header.from=evil.example",  # a pass for the attacker's own domain
        f"{ar} dmarc=pass",  # a pass that names no domain
        f"{ar} dkim=pass header.d=example",  # a public suffix is nobody's domain
        f"{ar} dkim=pass header.i=@evil.example",
    ]
    for n, line in enumerate(refused):
        raw = customer_reply(inv, DEMO_ANSWERS, INVITED)
        raw = raw.replace(b"Message-ID: <", f"Message-ID: <ar{n}.".encode())
        row = await deliver(rt, tenant.slug, with_header(raw, line))
        assert row.outcome == "unauthenticated", line
    assert await state_of(rt, cid) == "invited"
    # Our server's verdict is the topmost one; a pass the sender wrote below it is ignored.
    below = customer_reply(inv, DEMO_ANSWERS, INVITED)
    below = with_header(below, f"{ar} dmarc=pass header.from=mooi-schoonheid.example")
    below = with_header(below, f"{ar} dmarc=fail header.from=mooi-schoonheid.example")
    assert (await deliver(rt, tenant.slug, below)).outcome == "unauthenticated"
    # Aligned passes still count: a subdomain's DKIM key (relaxed alignment) or DMARC itself.
    for n, line in enumerate(
        [
            f"{ar} dkim=pass header.d=mail.mooi-schoonheid.example",
            f"{ar} dmarc=pass header.from=mooi-schoonheid.example",
        ]
    ):
        raw = customer_reply(inv, "1. Klantenbeheer\n", INVITED)
        raw = raw.replace(b"Message-ID: <", f"Message-ID: <ok{n}.".encode())
        assert (await deliver(rt, tenant.slug, with_header(raw, line))).outcome == "followup_sent"


async def test_forged_dmarc_cannot_complete_a_contract(runtime_factory):
    tenant = make_tenant(authserv_id="mx.example.be")
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    forged = "Authentication-Results: mx.example.be; dmarc=pass header.from=evil.example"
    answers = with_header(customer_reply(inv, DEMO_ANSWERS, INVITED), forged)
    assert (await deliver(rt, tenant.slug, answers)).outcome == "unauthenticated"
    akkoord = with_header(customer_reply(inv, "AKKOORD", INVITED), forged)
    assert (await deliver(rt, tenant.slug, akkoord)).outcome == "unauthenticated"
    assert await state_of(rt, cid) == "invited"
    assert await _signatures(rt, cid) == []


async def _final_v2(rt, slug, cid, inv):
    """Final v1 sent, a change request approved, final v2 sent: (final v1, final v2)."""
    await deliver(rt, slug, customer_reply(inv, DEMO_ANSWERS, INVITED))
    (v1,) = [m for m in _outbox(rt, slug) if m["X-Dpabot-Kind"] == "final"]
    await deliver(rt, slug, customer_reply(v1, CHANGE_5, INVITED))
    assert await state_of(rt, cid) == "negotiating"
    async with scoped(rt) as s:
        cr = await s.scalar(select(ChangeRequest).where(ChangeRequest.contract_id == cid))
    await negotiation.decide_change(rt, slug, cr.id, actor="telegram:1", action="approve")
    await run_jobs_until_idle(rt)
    finals = [m for m in _outbox(rt, slug) if m["X-Dpabot-Kind"] == "final"]
    assert len(finals) == 2 and await state_of(rt, cid) == "awaiting_signature"
    return v1, next(m for m in finals if m["Message-ID"] != v1["Message-ID"])


async def _sent(rt, cid: int) -> tuple[int, str]:
    async with scoped(rt) as s:
        contract = await s.get(Contract, cid)
        version = await s.scalar(
            select(ContractVersion).where(
                ContractVersion.contract_id == cid,
                ContractVersion.number == contract.current_version,
            )
        )
        return version.number, version.sent_pdf_sha256


async def test_an_acceptance_of_an_older_version_is_never_applied_to_the_new(runtime_factory):
    tenant = make_tenant()
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    v1, v2 = await _final_v2(rt, tenant.slug, cid, inv)
    number, sha2 = await _sent(rt, cid)
    # Each final names its version and fingerprint in its subject and body.
    assert f"versie {number}" in v2["Subject"] and fingerprint(sha2) in v2["Subject"]
    assert f"versie {number - 1}" in v1["Subject"]
    assert fingerprint(sha2) in v2.get_body(preferencelist=("plain",)).get_content()
    assert fingerprint(sha2) not in v1["Subject"]
    # AKKOORD to v1 with its thread headers removed (the old hole), and with them kept.
    for n, raw in enumerate(
        [
            _thread_dropped(customer_reply(v1, "AKKOORD", INVITED)),
            customer_reply(v1, "AKKOORD", INVITED),
        ]
    ):
        raw = raw.replace(b"Message-ID: <", f"Message-ID: <old{n}.".encode())
        row = await deliver(rt, tenant.slug, raw)
        assert row.outcome == "not_counted"
        assert await state_of(rt, cid) == "awaiting_signature"
        assert await _signatures(rt, cid) == ["processor", "processor"]  # v1 and v2, no more
    # Each time the customer got the current version again, with its fingerprint.
    known = {v1["Message-ID"], v2["Message-ID"]}
    resent = [
        m
        for m in _outbox(rt, tenant.slug)
        if m["X-Dpabot-Kind"] == "final" and m["Message-ID"] not in known
    ]
    assert len(resent) == 2
    for mail in resent:
        text = mail.get_body(preferencelist=("plain",)).get_content()
        assert "niet geteld" in text and fingerprint(sha2) in text and f"versie {number}" in text
        (pdf,) = [p for p in mail.iter_attachments() if p.get_content_type() == "application/pdf"]
        assert hashlib.sha256(pdf.get_content()).hexdigest() == sha2
    # Quoting v2's fingerprint (a client without thread headers) counts.
    quoting = _thread_dropped(customer_reply(v2, "AKKOORD", INVITED))
    assert fingerprint(sha2).encode() in quoting
    row = await deliver(rt, tenant.slug, quoting)
    assert row.outcome == "applied"
    assert await state_of(rt, cid) in ("customer_signed", "completed")


async def test_a_reply_to_the_resent_final_counts(runtime_factory):
    tenant = make_tenant()
    rt, [(cid, inv)] = await invited(runtime_factory, tenant)
    await deliver(rt, tenant.slug, customer_reply(inv, DEMO_ANSWERS, INVITED))
    # AKKOORD in the invitation's thread: the final comes again, and a reply to that counts.
    await deliver(rt, tenant.slug, customer_reply(inv, "AKKOORD", INVITED))
    finals = [m for m in _outbox(rt, tenant.slug) if m["X-Dpabot-Kind"] == "final"]
    assert len(finals) == 2
    # A new mail to the reply address, no thread headers, no quote, no fingerprint: nothing
    # names the version, so nothing is signed.
    assert (await deliver(rt, tenant.slug, _bare(finals[-1]))).outcome == "not_counted"
    assert await state_of(rt, cid) == "awaiting_signature"
    row = await deliver(rt, tenant.slug, customer_reply(finals[-1], "AKKOORD", INVITED))
    assert row.outcome == "applied"
    assert await state_of(rt, cid) in ("customer_signed", "completed")
