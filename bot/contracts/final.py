"""The final-version mail: which version it carries, and whether a reply names that version.

An acceptance signs one exact document, so it must name it without doubt. Every final mail
says its version and a short fingerprint (the start of the PDF's SHA-256, so anyone can check
it against the attachment) in its subject and body, and is stored with its version. A reply
counts as accepting the current version only when its thread headers point at a final mail of
that version or it quotes that version's fingerprint; the subject alone (the same for every
version) never does.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.contracts.stamps import processor_stamp
from bot.core.runtime import Runtime
from bot.core.settings import TenantSettings
from bot.core.tenant_signing import TenantSigning
from bot.domain.data import document_data
from bot.domain.fingerprint import fingerprint
from bot.domain.notices import notice
from bot.domain.workflow import State
from bot.jobs import cpu
from bot.outbox import queue_final
from bot.outbox.queue import customer_mail, queue_mail
from handlers.reader.mime import ParsedMail
from signing import certify_processor
from signing.keys import signer_identity
from storage import audit
from storage.blobs import sha256_hex
from storage.models import Contract, ContractVersion, Customer
from storage.repositories import TenantRepo


def final_mail(
    tenant: TenantSettings,
    customer: Customer,
    contract: Contract,
    fields: dict[str, str],
    *,
    version: int,
    pdf: bytes,
    sha256: str,
    processor_signed: bool,
    in_reply_to: str | None = None,
    notice: str = "",
) -> EmailMessage:
    """The final version for signature, its version and fingerprint in subject and body."""
    return customer_mail(
        tenant,
        customer,
        contract,
        "final",
        fields,
        in_reply_to=in_reply_to,
        attachments=[(f"verwerkersovereenkomst-{contract.id}-v{version}.pdf", pdf)],
        sha256=sha256,
        version=version,
        fingerprint=fingerprint(sha256),
        processor_signed=processor_signed,
        notice=notice,
    )


async def resend_final(
    rt: Runtime,
    s: AsyncSession,
    slug: str,
    repo: TenantRepo,
    contract: Contract,
    customer: Customer,
    version: ContractVersion,
    mail: ParsedMail,
) -> bool:
    """The current final version again, for an acceptance that did not name it: the customer
    sees which version and fingerprint an AKKOORD must answer; nothing was signed.

    At most RESEND_FINAL_PER_DAY final mails a day: forged acceptances must not become a flood
    of mail to the customer. Returns whether the mail was queued."""
    assert version.sent_pdf_path is not None and version.sent_pdf_sha256 is not None
    day_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    if await repo.mails_since(contract, "final", day_ago) >= RESEND_FINAL_PER_DAY:
        return False
    msg = final_mail(
        rt.tenant(slug),
        customer,
        contract,
        version.fields,
        version=version.number,
        pdf=rt.blobs.get(version.sent_pdf_path),
        sha256=version.sent_pdf_sha256,
        processor_signed=rt.signing[slug].order == "processor_first",
        in_reply_to=mail.message_id or None,
        notice=notice(
            "resend_final",
            customer.language,
            version=version.number,
            fingerprint=fingerprint(version.sent_pdf_sha256),
        ),
    )
    await queue_mail(s, slug, repo, contract, msg, "final", version=version.number)
    return True


# The final mail itself and up to three copies a day for acceptances that did not name it.
RESEND_FINAL_PER_DAY = 4


async def _final_sent(repo: TenantRepo, contract: Contract, version_no: int) -> bool:
    version = await repo.version(contract, version_no)
    if version.sent_pdf_path is not None:
        return True
    # Rows from before sent_pdf_path: the processor's signature marked the final as sent.
    return any(
        g.version == version_no and g.party == "processor" for g in await repo.signatures(contract)
    )


def processor_reason(slug: str, contract_id: int, version_no: int) -> str:
    return f"Verwerkersovereenkomst {slug}-{contract_id} versie {version_no}"


async def finalize(rt: Runtime, slug: str, contract_id: int, version_no: int) -> None:
    """Render the agreed version and mail it for signature: certified by the processor first,
    or (tenant order ``customer_first``) unsigned, the processor countersigning after."""
    tenant = rt.tenant(slug)
    signing = rt.signing[slug]
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        contract = await repo.contract(contract_id)
        if contract.current_version != version_no or contract.state != State.AWAITING_SIGNATURE:
            return  # superseded by a newer reply
        if await _final_sent(repo, contract, version_no):
            return  # the job ran twice: the final version went out already
        version = await repo.version(contract, version_no)
        fields = dict(version.fields)
        amendments = list(version.amendments or [])
        customer = await repo.customer(contract.customer_id)
    # The final version carries its date; kept in the version so a re-render gives the same text.
    fields.setdefault("sign_date", dt.datetime.now(dt.UTC).date().isoformat())
    pdf = await cpu.render(
        tenant.template,
        document_data(tenant, fields, version=version_no, draft=False, amendments=amendments),
        draft=False,
        unique=True,  # the mailed final's fingerprint must not be computable from its text
    )
    processor_first = signing.order == "processor_first"
    sent = pdf
    if processor_first:
        sent = await cpu.in_thread_loop(
            lambda: certify_processor(
                pdf,
                signing.processor_signer,
                signing.tsa_urls,
                reason=processor_reason(tenant.slug, contract_id, version_no),
                location=tenant.place or None,
                stamp=processor_stamp(tenant),
            )
        )
    now = dt.datetime.now(dt.UTC)
    path = rt.blobs.put(slug, now.year, sent, ".pdf")
    digest = sha256_hex(sent)
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        contract = await repo.contract(contract_id, for_update=True)
        if contract.current_version != version_no or await _final_sent(repo, contract, version_no):
            return  # superseded, or a parallel run of this job won the race
        version = await repo.version(contract, version_no)
        version.pdf_sha256 = sha256_hex(pdf)
        version.fields = fields
        version.sent_pdf_path = str(path)
        version.sent_pdf_sha256 = digest
        if processor_first:
            await repo.add_signature(
                **processor_signature(signing, contract.id, version_no, str(path), digest),
                evidence={"rendered_sha256": sha256_hex(pdf)},
            )
        msg = final_mail(
            tenant,
            customer,
            contract,
            fields,
            version=version_no,
            pdf=sent,
            sha256=digest,
            processor_signed=processor_first,
        )
        await queue_mail(s, slug, repo, contract, msg, "final", version=version_no)

        # A customer bound in the chat gets it there too, with the acceptance button.
        await queue_final(repo, tenant.name, customer, contract, str(path), digest, processor_first)
        await audit.record(
            s,
            repo.tenant_id,
            "dpabot",
            "contract.processor_signed" if processor_first else "contract.final_sent",
            f"contract:{contract.id}",
            {"version": version_no, "sha256": digest},
        )


def processor_signature(
    signing: TenantSigning, contract_id: int, version_no: int, blob_path: str, pdf_sha256: str
) -> dict[str, Any]:
    """The signatures row of the processor's own signature (its key's identity)."""
    signer_name, cert_sha = signer_identity(signing.processor_signer)
    return {
        "contract_id": contract_id,
        "version": version_no,
        "party": "processor",
        "signer": signer_name,
        "cert_sha256": cert_sha,
        "method": "tenant_key",
        "blob_path": blob_path,
        "pdf_sha256": pdf_sha256,
    }
