"""The whole chain on real servers: SMTP out (aiosmtpd, STARTTLS+AUTH), IMAP IDLE in (Dovecot),
PostgreSQL, the development PKI's HTTP TSA; the signed PDF checked by pyHanko, pdfsig and qpdf."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select

from bot import contracts
from bot.app.demo import DEMO_ANSWERS, customer_reply
from bot.core.settings import ImapSettings, SecretRef, SmtpSettings
from bot.jobs import run_jobs_until_idle
from bot.mail.listener import listen
from signing import validate_pdf
from storage.models import ArchiveEntry, Contract, Message
from tests.fixtures.pki import nss_db, pdfsig_signatures, qpdf_check
from tests.fixtures.runtime import make_tenant, scoped

CUSTOMER = dict(
    name="MOOI Schoonheidsverzorging",
    enterprise_number="BE0840.465.705",
    representative="Karolien Piskor",
    email="karolien@mooi-schoonheid.example",
)


def _mail(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


async def _wait_stored(rt, slug: str, count: int, timeout: float = 15) -> float:  # noqa: ASYNC109
    """Seconds until `count` inbound mails of the tenant are stored (the listener uses IDLE)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        async with scoped(rt) as s:
            rows = await s.scalars(
                select(Message).where(
                    Message.direction == "in", Message.tenant_id == rt.tenant_ids[slug]
                )
            )
            n = len(rows.all())
        if n >= count:
            return time.monotonic() - start
        await asyncio.sleep(0.1)
    raise AssertionError(f"the listener stored fewer than {count} replies in {timeout} s")


async def test_invitation_reply_final_accept_archive(
    runtime_factory, smtpd, dovecot, tmp_path: Path, monkeypatch
):
    ca = tmp_path / "smtpd.pem"
    ca.write_bytes(smtpd.cert_pem)
    user = dovecot.new_user()
    monkeypatch.setenv("TEST_IMAP_PW", dovecot.password)
    monkeypatch.setenv("TEST_SMTP_PW", smtpd.password)
    tenant = make_tenant(
        transport="imap",
        smtp=SmtpSettings(
            host=smtpd.host,
            port=smtpd.port,
            username=smtpd.username,
            password=SecretRef(env="TEST_SMTP_PW"),
            starttls=True,
            ca_file=ca,
        ),
        imap=ImapSettings(
            host=dovecot.host,
            port=dovecot.port,
            username=user,
            password=SecretRef(env="TEST_IMAP_PW"),
            ssl=False,
        ),
    )
    rt = await runtime_factory([tenant])
    smtpd.clear()
    customer_id = await contracts.add_customer(rt, tenant.slug, **CUSTOMER)
    contract_id = await contracts.invite(rt, tenant.slug, customer_id)
    await run_jobs_until_idle(rt)

    # The invitation: draft PDF, five numbered questions with proposals, plus-address replies.
    (received,) = await smtpd.wait_for(1)
    invitation = _mail(received.raw)
    assert received.rcpt_tos == [CUSTOMER["email"]]
    reply_to = str(invitation["Reply-To"])
    assert reply_to.startswith("dpa+") and reply_to.endswith(f"@{tenant.slug}.example")
    text = invitation.get_body(preferencelist=("plain",)).get_content()
    for n in range(1, 6):
        assert f"{n}." in text
    assert any(p.get_content_type() == "application/pdf" for p in invitation.iter_attachments())
    async with scoped(rt) as s:
        sent = await s.scalar(
            select(Message).where(
                Message.kind == "invitation", Message.tenant_id == rt.tenant_ids[tenant.slug]
            )
        )
        assert sent.message_id == str(invitation["Message-ID"]).strip() and sent.outcome == "sent"

    stop = asyncio.Event()
    listener = asyncio.create_task(listen(rt, tenant.slug, stop))
    try:
        await asyncio.sleep(0.5)  # let it reach IDLE
        await dovecot.append(customer_reply(invitation, DEMO_ANSWERS, CUSTOMER["email"]), user)
        await _wait_stored(rt, tenant.slug, 1)
        await run_jobs_until_idle(rt)
        final_raw = (await smtpd.wait_for(2))[1].raw
        final = _mail(final_raw)
        assert final["X-Dpabot-Kind"] == "final"
        await dovecot.append(customer_reply(final, "AKKOORD", CUSTOMER["email"]), user)
        await _wait_stored(rt, tenant.slug, 2)
        await run_jobs_until_idle(rt)
        completed = _mail((await smtpd.wait_for(3))[2].raw)
    finally:
        stop.set()
        await asyncio.wait_for(listener, 15)

    assert completed["X-Dpabot-Kind"] == "completed"
    # Both replies are flagged on the server only after being stored.
    assert all("$DpabotStored" in f for f in (await dovecot.flags(user)).values())
    async with scoped(rt) as s:
        contract = await s.get(Contract, contract_id)
        assert contract.state == "completed"
        entry = await s.scalar(select(ArchiveEntry).where(ArchiveEntry.contract_id == contract_id))
    pdf_path = Path(entry.path)
    pdf = pdf_path.read_bytes()
    attached = next(p for p in completed.iter_attachments()).get_content()
    assert attached == pdf

    report = await validate_pdf(pdf, rt.signing[tenant.slug].trust_roots)
    assert report.ok, report.to_dict()
    fields = {s.field: s for s in report.signatures}
    assert fields["Processor"].certification and fields["Customer"].signer_cn == "Karolien Piskor"
    assert all(s.ades_status == "PASSED" for s in report.signatures)
    assert report.document_timestamps and report.document_timestamps[0].intact
    nssdir = tmp_path / "nss"
    nssdir.mkdir()
    verdicts = pdfsig_signatures(
        pdf_path, nss_db(rt.signing[tenant.slug].trust_root_paths[0], nssdir)
    )
    regular = [v for v in verdicts if v["Signature Field Name"] in ("Processor", "Customer")]
    assert len(regular) == 2
    assert all(v["Signature Validation"] == "Signature is Valid." for v in regular), verdicts
    assert all(v["Certificate Validation"] == "Certificate is Trusted." for v in regular), verdicts
    qpdf_check(pdf_path)
