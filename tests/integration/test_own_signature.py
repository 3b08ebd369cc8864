"""Customers who sign the final PDF with their own certificate and mail it back, and tenants
that sign customer first: through the mail pipeline to the archive, checked by pdfsig.

The customer's tool is poppler's pdfsig with an NSS database (tests/fixtures/nss_signer.py);
its certificate comes from the tenant's customer CA (a recognised one, in development) or is
self-signed (refused).
"""

from __future__ import annotations

import email
import email.policy
import mailbox
from collections.abc import AsyncIterator
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from cryptography.hazmat.primitives import hashes
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select

from bot import contracts
from bot.app.demo import DEMO_ANSWERS, customer_reply
from bot.archive.store import verify_entry
from bot.contracts import own_signature
from bot.core.runtime import Runtime
from bot.core.settings import SigningSettings
from bot.jobs import run_jobs_until_idle
from bot.mail.listener import poll_once
from signing import FIELD_CUSTOMER, validate_pdf
from signing.returned import REASONS
from storage.models import ArchiveEntry, AuditEvent, Contract, Message, Notification, Signature
from tests.fixtures.nss_signer import NssSigner, issue_rsa_cert, make_nss_signer
from tests.fixtures.pki import assert_pdfsig_trusted, nss_db, pdfsig_by_field
from tests.fixtures.runtime import make_tenant, scoped
from tests.integration.test_archive_verify import open_for_module
from tests.integration.test_bad_input import _outbox

NAME = "Karolien Piskor"  # the representative dpabot invites (contracts.add_customer below)


@pytest.fixture(scope="module")
async def world(database_url, tmp_path_factory) -> AsyncIterator[dict[str, Any]]:
    """One runtime, two tenants: processor signs first (default) / customer signs first."""
    pf = make_tenant(transport="maildir")
    cf = make_tenant(transport="maildir").model_copy(
        update={"signing": SigningSettings(order="customer_first")}
    )
    folder = tmp_path_factory.mktemp("own")
    (folder / "nss-trust").mkdir()
    async for rt in open_for_module(folder / "var", database_url, [pf, cf]):
        yield {
            "rt": rt,
            "pf": pf.slug,
            "cf": cf.slug,
            "folder": folder,
            "nss_trust": nss_db(rt.pki.root_cert_path, folder / "nss-trust"),
        }


def _signer(world: dict[str, Any], slug: str, name: str, email_: str, *, ca: bool = True):
    """A customer's own signing tool holding a certificate for name/email."""
    rt: Runtime = world["rt"]
    customer_ca = rt.signing[slug].customer_ca if ca else None
    key, cert = issue_rsa_cert(name, email_, customer_ca)
    chain = [customer_ca.ca_cert] if customer_ca else []
    folder = world["folder"] / f"nss-{email_}-{slug}"
    return make_nss_signer(folder, key, cert, chain)


async def _to_final(rt: Runtime, slug: str, email_: str, lang: str = "nl") -> EmailMessage:
    """Invite a customer and answer every question: the mail with the final version."""
    cid = await contracts.add_customer(
        rt,
        slug,
        name=f"Salon {email_}",
        enterprise_number="BE0840.465.705",
        representative=NAME,
        email=email_,
        language=lang,
    )
    await contracts.invite(rt, slug, cid)
    await run_jobs_until_idle(rt)
    (invitation,) = _mails(rt, slug, email_, "invitation")
    _deliver(rt, slug, customer_reply(invitation, DEMO_ANSWERS, email_))
    await poll_once(rt, slug)
    await run_jobs_until_idle(rt)
    (final,) = _mails(rt, slug, email_, "final")
    return final


def _mails(rt: Runtime, slug: str, email_: str, kind: str) -> list[EmailMessage]:
    return [
        m for m in _outbox(rt, slug) if m["To"] and email_ in m["To"] and m["X-Dpabot-Kind"] == kind
    ]


def _deliver(rt: Runtime, slug: str, raw: bytes) -> None:
    mailbox.Maildir(rt.maildir(slug, "inbox"), create=True).add(raw)


def _pdf_of(msg: EmailMessage) -> bytes:
    # The contract; a completion mail also carries the certificate of completion.
    (part,) = [
        p
        for p in msg.iter_attachments()
        if p.get_content_type() == "application/pdf"
        and not (p.get_filename() or "").endswith("-certificaat.pdf")
    ]
    return part.get_content()


def _reply_with(original: EmailMessage, body: str, email_: str, pdf: bytes) -> bytes:
    """A reply with the signed PDF attached, as a mail client sends it."""
    msg = email.message_from_bytes(
        customer_reply(original, body, email_), policy=email.policy.default
    )
    assert isinstance(msg, EmailMessage)
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="dpa-signed.pdf")
    return bytes(msg)


async def _send_signed(
    world: dict[str, Any], slug: str, email_: str, signer: NssSigner, lang: str = "nl"
) -> tuple[int, bytes]:
    """Up to the final mail, then the customer signs its PDF with their tool and replies."""
    rt: Runtime = world["rt"]
    final = await _to_final(rt, slug, email_, lang)
    workdir = world["folder"] / f"work-{email_}-{slug}"
    workdir.mkdir()
    signed = signer.sign(_pdf_of(final), workdir, field=FIELD_CUSTOMER)
    _deliver(rt, slug, _reply_with(final, "Ondertekend in bijlage.", email_, signed))
    await poll_once(rt, slug)
    await run_jobs_until_idle(rt)
    return await _contract_of(rt, slug, email_), signed


async def _state(rt: Runtime, contract_id: int) -> str:
    async with scoped(rt) as s:
        contract = await s.get(Contract, contract_id, populate_existing=True)
        assert contract is not None
        return contract.state


async def _archived(rt: Runtime, contract_id: int) -> tuple[ArchiveEntry, list[Signature]]:
    async with scoped(rt) as s:
        entry = await s.scalar(select(ArchiveEntry).where(ArchiveEntry.contract_id == contract_id))
        sigs = (
            await s.scalars(select(Signature).where(Signature.contract_id == contract_id))
        ).all()
    assert entry is not None, "the contract was not archived"
    return entry, list(sigs)


async def _last_reply(rt: Runtime, contract_id: int) -> Message:
    async with scoped(rt) as s:
        row = await s.scalar(
            select(Message)
            .where(Message.contract_id == contract_id, Message.direction == "in")
            .order_by(Message.id.desc())
        )
    assert row is not None
    return row


async def _notes(rt: Runtime, slug: str, subject: str) -> list[Notification]:
    async with scoped(rt) as s:
        rows = await s.scalars(
            select(Notification).where(
                Notification.tenant_id == rt.tenant_ids[slug], Notification.subject == subject
            )
        )
        return list(rows.all())


def _pdfsig_by_field(world: dict[str, Any], pdf: bytes, name: str) -> dict[str, dict[str, str]]:
    path = world["folder"] / name
    path.write_bytes(pdf)
    return pdfsig_by_field(path, world["nss_trust"])


def _fields_in_order(pdf: bytes) -> list[str]:
    # Not strict: poppler (the customer's tool here) reuses the empty appearance's object number.
    return [s.field_name for s in PdfFileReader(BytesIO(pdf), strict=False).embedded_signatures]


async def _assert_archived_and_valid(
    world: dict[str, Any], contract_id: int, order: list[str], name: str
) -> tuple[bytes, list[Signature]]:
    rt: Runtime = world["rt"]
    assert await _state(rt, contract_id) == "completed"
    entry, sigs = await _archived(rt, contract_id)
    pdf = Path(entry.path).read_bytes()
    assert _fields_in_order(pdf) == order
    slug = next(s for s, tid in rt.tenant_ids.items() if tid == entry.tenant_id)
    report = await validate_pdf(pdf, rt.signing[slug].all_roots)
    assert report.ok, report.to_dict()
    assert (await verify_entry(entry, rt.signing[slug].all_roots)).ok
    assert_pdfsig_trusted(_pdfsig_by_field(world, pdf, name), "Processor", "Customer")
    return pdf, sigs


# -- processor first (the default) ---------------------------------------------------------


async def test_own_signature_is_checked_archived_and_valid_for_pdfsig(world, dev_pki):
    rt, slug = world["rt"], world["pf"]
    email_ = "karolien@mooi.example"
    signer = _signer(world, slug, NAME, email_)
    contract_id, returned = await _send_signed(world, slug, email_, signer)
    pdf, sigs = await _assert_archived_and_valid(
        world, contract_id, ["Processor", "Customer", "ArchiveTimestamp"], "pf-own.pdf"
    )
    # pdfsig adds no signature timestamp: the archive timestamp proves the signing time,
    # and the customer's chain is judged at that time from the DSS.
    report = await validate_pdf(pdf, rt.signing[slug].all_roots)
    customer_report = next(r for r in report.signatures if r.field == "Customer")
    assert customer_report.time_proof == "document_timestamp" and customer_report.ok
    # ... and only against the right roots: another PKI's root trusts neither signature.
    stranger = await validate_pdf(pdf, [dev_pki.root_cert])
    assert not any(r.ok for r in stranger.signatures)
    # The archive holds the customer's own signature untouched: their bytes are its prefix.
    assert pdf.startswith(returned)
    customer = next(g for g in sigs if g.party == "customer")
    assert customer.method == "own_certificate"
    assert customer.signer == NAME
    assert customer.cert_sha256 == signer.cert.fingerprint(hashes.SHA256()).hex()
    reply = await _last_reply(rt, contract_id)
    assert reply.outcome == "signature_accepted"
    assert customer.evidence["raw_sha256"] == reply.raw_sha256
    (completed,) = _mails(rt, slug, email_, "completed")
    assert _pdf_of(completed) == pdf


async def test_self_signed_certificate_is_refused_in_the_customers_language(world):
    rt, slug = world["rt"], world["pf"]
    email_ = "claire@beaute.example"
    signer = _signer(world, slug, NAME, email_, ca=False)
    contract_id, _ = await _send_signed(world, slug, email_, signer, lang="fr")
    assert await _state(rt, contract_id) == "awaiting_signature"
    reply = await _last_reply(rt, contract_id)
    assert reply.outcome == "signature_refused"
    assert b"dpa-signed.pdf" in reply.raw  # the mail is kept whole
    (followup,) = _mails(rt, slug, email_, "followup")
    text = followup.get_body(preferencelist=("plain",)).get_content()
    assert REASONS["untrusted_certificate"]["fr"].split(" (")[0] in " ".join(text.split())
    (note,) = await _notes(rt, slug, f"message:{reply.id}")
    assert note.kind == "signature_refused" and "trust root" in note.text.lower()
    async with scoped(rt) as s:
        assert (
            await s.scalars(
                select(Signature).where(
                    Signature.contract_id == contract_id, Signature.party == "customer"
                )
            )
        ).first() is None


async def test_someone_else_signing_waits_for_staff_who_confirm(world):
    rt, slug = world["rt"], world["pf"]
    email_ = "ann@kapper.example"
    signer = _signer(world, slug, "Jan Janssens", "jan@elders.example")
    contract_id, _ = await _send_signed(world, slug, email_, signer)
    assert await _state(rt, contract_id) == "awaiting_signature"
    reply = await _last_reply(rt, contract_id)
    assert reply.outcome == "signer_unconfirmed"
    (followup,) = _mails(rt, slug, email_, "followup")
    text = " ".join(followup.get_body(preferencelist=("plain",)).get_content().split())
    assert REASONS["signer_mismatch"]["nl"].split(":")[0] in text
    (note,) = await _notes(rt, slug, f"message:{reply.id}")
    assert "Jan Janssens" in note.text and "confirm-signer" in note.text

    await own_signature.confirm_signer(rt, slug, reply.id, "staff:michel")
    await run_jobs_until_idle(rt)
    _, sigs = await _assert_archived_and_valid(
        world, contract_id, ["Processor", "Customer", "ArchiveTimestamp"], "pf-confirmed.pdf"
    )
    customer = next(g for g in sigs if g.party == "customer")
    assert customer.signer == "Jan Janssens"
    assert customer.evidence["confirmed_by"] == "staff:michel"
    async with scoped(rt) as s:
        actions = (
            await s.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.tenant_id == rt.tenant_ids[slug], AuditEvent.actor == "staff:michel"
                )
            )
        ).all()
    assert actions == ["signature.signer_confirmed"]


async def test_a_signed_draft_does_not_count_but_its_answers_do(world):
    rt, slug = world["rt"], world["pf"]
    email_ = "early@salon.example"
    signer = _signer(world, slug, NAME, email_)
    cid = await contracts.add_customer(
        rt, slug, name="Early Salon", representative=NAME, email=email_
    )
    contract_id = await contracts.invite(rt, slug, cid)
    await run_jobs_until_idle(rt)
    (invitation,) = _mails(rt, slug, email_, "invitation")
    workdir = world["folder"] / "early"
    workdir.mkdir()
    # The draft's form is prefilled; signed as it is, its answers complete the annex.
    signed_draft = signer.sign(_pdf_of(invitation), workdir, field=None)
    _deliver(rt, slug, _reply_with(invitation, DEMO_ANSWERS, email_, signed_draft))
    await poll_once(rt, slug)
    await run_jobs_until_idle(rt)
    # The answers count: the final version goes out; the draft's signature signs nothing.
    assert await _state(rt, contract_id) == "awaiting_signature"
    assert len(_mails(rt, slug, email_, "final")) == 1
    assert (await _last_reply(rt, contract_id)).outcome == "applied"
    async with scoped(rt) as s:
        parties = (
            await s.scalars(select(Signature.party).where(Signature.contract_id == contract_id))
        ).all()
    assert parties == ["processor"]


async def test_a_signed_pdf_before_the_final_version_is_answered_as_not_counted(world):
    rt, slug = world["rt"], world["pf"]
    email_ = "eager@salon.example"
    signer = _signer(world, slug, NAME, email_)
    cid = await contracts.add_customer(
        rt, slug, name="Eager Salon", representative=NAME, email=email_
    )
    contract_id = await contracts.invite(rt, slug, cid)
    await run_jobs_until_idle(rt)
    (invitation,) = _mails(rt, slug, email_, "invitation")
    blank = BytesIO()
    with pikepdf.new() as doc:
        doc.add_blank_page()
        doc.save(blank)
    workdir = world["folder"] / "eager"
    workdir.mkdir()
    signed = signer.sign(blank.getvalue(), workdir, field=None)
    half = DEMO_ANSWERS.split("3)")[0]  # answers 1 and 2 only
    _deliver(rt, slug, _reply_with(invitation, half, email_, signed))
    await poll_once(rt, slug)
    await run_jobs_until_idle(rt)
    assert await _state(rt, contract_id) == "collecting"
    (followup,) = _mails(rt, slug, email_, "followup")
    text = " ".join(followup.get_body(preferencelist=("plain",)).get_content().split())
    assert "definitieve versie" in text  # told a signature counts only on the final version


# -- customer first ------------------------------------------------------------------------


async def test_customer_first_acceptance_by_reply_then_processor_signs(world):
    rt, slug = world["rt"], world["cf"]
    email_ = "lotte@nagels.example"
    final = await _to_final(rt, slug, email_)
    text = " ".join(final.get_body(preferencelist=("plain",)).get_content().split())
    assert "ondertekent het document elektronisch na u" in text
    assert _fields_in_order(_pdf_of(final)) == []  # unsigned: the customer goes first
    _deliver(rt, slug, customer_reply(final, "AKKOORD", email_))
    await poll_once(rt, slug)
    await run_jobs_until_idle(rt)
    contract_id = await _contract_of(rt, slug, email_)
    assert (await _last_reply(rt, contract_id)).outcome == "applied"
    pdf, sigs = await _assert_archived_and_valid(
        world, contract_id, ["Customer", "Processor", "ArchiveTimestamp"], "cf-reply.pdf"
    )
    assert pdf.startswith(_pdf_of(final))
    assert {(g.party, g.method) for g in sigs} == {
        ("customer", "reply_acceptance"),
        ("processor", "tenant_key"),
    }


async def test_customer_first_own_signature_then_processor_approves(world):
    slug = world["cf"]
    email_ = "noor@studio.example"
    signer = _signer(world, slug, NAME, email_)
    contract_id, returned = await _send_signed(world, slug, email_, signer)
    pdf, sigs = await _assert_archived_and_valid(
        world, contract_id, ["Customer", "Processor", "ArchiveTimestamp"], "cf-own.pdf"
    )
    assert pdf.startswith(returned)
    assert {(g.party, g.method) for g in sigs} == {
        ("customer", "own_certificate"),
        ("processor", "tenant_key"),
    }


async def _contract_of(rt: Runtime, slug: str, email_: str) -> int:
    async with scoped(rt) as s:
        contract_id = await s.scalar(
            select(Contract.id)
            .join(Message, Message.contract_id == Contract.id)
            .where(Message.to_addr.contains(email_), Contract.tenant_id == rt.tenant_ids[slug])
        )
    assert contract_id is not None
    return int(contract_id)
