"""What dpabot does, step by step: invite, send, finalize, sign (mail in: bot/inbound.py)."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import logging
import secrets
from typing import Any

from bot import cpu
from bot.contract_data import document_data
from bot.inbound import process_inbound, store_inbound
from bot.mailer import compose
from bot.outbox import mail_context, queue_mail
from bot.runtime import Runtime
from bot.workflow import Event, State, decide
from signing.keys import signer_identity
from storage import audit
from storage.blobs import sha256_hex
from storage.models import Contract, Customer
from storage.repositories import TenantRepo

log = logging.getLogger(__name__)
__all__ = [
    "add_customer",
    "customer_sign",
    "finalize",
    "invite",
    "new_token",
    "process_inbound",
    "send_message",
    "store_inbound",
]


def new_token() -> str:
    """128 random bits in lowercase base32: safe in a mail address's local part."""
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


def _repo(rt: Runtime, session: Any, slug: str) -> TenantRepo:
    return TenantRepo(session, rt.tenant_ids[slug])


def _party_fields(customer: Customer) -> dict[str, str]:
    return {
        "customer_name": customer.name,
        "customer_enterprise_number": customer.enterprise_number or "",
        "customer_representative": customer.representative,
        "customer_representative_function": customer.representative_function or "",
        "customer_email": customer.email,
    }


async def add_customer(
    rt: Runtime,
    slug: str,
    *,
    name: str,
    email: str,
    representative: str,
    enterprise_number: str | None = None,
    representative_function: str | None = None,
    language: str = "nl",
) -> int:
    """Create the customer, or return the existing one with that email address."""
    async with rt.db.transaction() as s:
        repo = _repo(rt, s, slug)
        existing = await repo.customer_by_email(email)
        if existing is not None:
            return existing.id
        customer = await repo.add_customer(
            name=name,
            email=email.lower(),
            representative=representative,
            enterprise_number=enterprise_number,
            representative_function=representative_function,
            language=language,
        )
        await audit.record(s, repo.tenant_id, "dpabot", "customer.added", f"customer:{customer.id}")
        return customer.id


async def invite(rt: Runtime, slug: str, customer_id: int) -> int:
    """Open a contract for the customer and queue the invitation with the draft PDF."""
    tenant = rt.tenant(slug)
    async with rt.db.transaction() as s:
        customer = await _repo(rt, s, slug).customer(customer_id)
        fields = _party_fields(customer)
    draft = await cpu.render(
        tenant.template, document_data(tenant, fields, version=1, draft=True), draft=True
    )
    async with rt.db.transaction() as s:
        repo = _repo(rt, s, slug)
        token = new_token()
        contract = await repo.add_contract(
            customer_id=customer.id,
            template_id=tenant.template,
            state=State.DRAFT.value,
            reply_token=token,
            current_version=1,
        )
        await repo.add_version(
            contract,
            number=1,
            fields=fields,
            pdf_sha256=sha256_hex(draft),
            changed_by="dpabot",
            reason="invitation",
        )
        msg = compose(
            tenant,
            kind="invitation",
            lang=customer.language,
            to=customer.email,
            token=token,
            context=mail_context(tenant, customer, contract, fields),
            attachments=[(f"verwerkersovereenkomst-{contract.id}-ontwerp.pdf", draft)],
        )
        await queue_mail(s, slug, repo, contract, msg, "invitation")
        contract.state = decide(State(contract.state), Event("invitation_sent")).state.value
        await audit.record(
            s,
            repo.tenant_id,
            "dpabot",
            "contract.invited",
            f"contract:{contract.id}",
            {"customer": customer.id},
        )
        return contract.id


async def send_message(rt: Runtime, slug: str, message_row_id: int) -> None:
    """Hand one stored outgoing mail to the tenant's transport (retried by the job on failure)."""
    async with rt.db.transaction() as s:
        row = await _repo(rt, s, slug).message(message_row_id)
        if row.outcome == "sent":
            return  # at-least-once delivery of the job; the mail went already
        raw = row.raw
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    await rt.senders[slug].send(msg)  # type: ignore[arg-type]
    async with rt.db.transaction() as s:
        row = await _repo(rt, s, slug).message(message_row_id)
        row.outcome = "sent"
        row.processed_at = dt.datetime.now(dt.UTC)


async def _processor_signed(repo: TenantRepo, contract: Contract, version_no: int) -> bool:
    return any(
        g.version == version_no and g.party == "processor" for g in await repo.signatures(contract)
    )


async def finalize(rt: Runtime, slug: str, contract_id: int, version_no: int) -> None:
    """Render the agreed version, certify it with the processor's key, mail it for acceptance."""
    tenant = rt.tenant(slug)
    signing = rt.signing[slug]
    async with rt.db.transaction() as s:
        repo = _repo(rt, s, slug)
        contract = await repo.contract(contract_id)
        if contract.current_version != version_no or contract.state != State.AWAITING_SIGNATURE:
            return  # superseded by a newer reply
        if await _processor_signed(repo, contract, version_no):
            return  # the job ran twice: the final version went out already
        version = await repo.version(contract, version_no)
        fields = dict(version.fields)
        customer = await repo.customer(contract.customer_id)
    # The final version carries its date; kept in the version so a re-render gives the same text.
    fields.setdefault("sign_date", dt.datetime.now(dt.UTC).date().isoformat())
    pdf = await cpu.render(
        tenant.template, document_data(tenant, fields, version=version_no, draft=False), draft=False
    )
    from signing import certify_processor

    signed = await cpu.in_thread_loop(
        lambda: certify_processor(
            pdf,
            signing.processor_signer,
            signing.tsa_urls,
            reason=f"Verwerkersovereenkomst {tenant.slug}-{contract_id} versie {version_no}",
            location=tenant.place or None,
        )
    )
    now = dt.datetime.now(dt.UTC)
    path = rt.blobs.put(slug, now.year, signed, ".pdf")
    signer_name, cert_sha = signer_identity(signing.processor_signer)
    digest = sha256_hex(signed)
    async with rt.db.transaction() as s:
        repo = _repo(rt, s, slug)
        contract = await repo.contract(contract_id, for_update=True)
        if contract.current_version != version_no or await _processor_signed(
            repo, contract, version_no
        ):
            return  # superseded, or a parallel run of this job won the race
        version = await repo.version(contract, version_no)
        version.pdf_sha256 = sha256_hex(pdf)
        version.fields = fields
        await repo.add_signature(
            contract_id=contract.id,
            version=version_no,
            party="processor",
            signer=signer_name,
            cert_sha256=cert_sha,
            method="tenant_key",
            blob_path=str(path),
            pdf_sha256=digest,
            evidence={"rendered_sha256": sha256_hex(pdf)},
        )
        msg = compose(
            tenant,
            kind="final",
            lang=customer.language,
            to=customer.email,
            token=contract.reply_token,
            context=mail_context(tenant, customer, contract, fields, sha256=digest),
            attachments=[(f"verwerkersovereenkomst-{contract.id}-v{version_no}.pdf", signed)],
        )
        await queue_mail(s, slug, repo, contract, msg, "final")
        await audit.record(
            s,
            repo.tenant_id,
            "dpabot",
            "contract.processor_signed",
            f"contract:{contract.id}",
            {"version": version_no, "sha256": digest},
        )


async def customer_sign(rt: Runtime, slug: str, contract_id: int, message_row_id: int) -> None:
    """Sign the customer's field on the acceptance reply, add LTA data, archive, confirm."""
    from bot.archive import archive_contract
    from signing import make_lta, sign_customer, validate_pdf

    signing = rt.signing[slug]
    async with rt.db.transaction() as s:
        repo = _repo(rt, s, slug)
        contract = await repo.contract(contract_id)
        if contract.state != State.CUSTOMER_SIGNED:
            return  # done already, or superseded
        customer = await repo.customer(contract.customer_id)
        reply = await repo.message(message_row_id)
        sigs = {(g.version, g.party): g for g in await repo.signatures(contract)}
        processor = sigs.get((contract.current_version, "processor"))
        if processor is None:
            raise RuntimeError(f"contract {contract_id} has no processor signature to countersign")
        reply_id, reply_sha = reply.message_id, reply.raw_sha256
    pdf = rt.blobs.get(processor.blob_path)
    one_time = rt.signing[slug].customer_ca.issue_one_time(
        customer.representative, customer.name, customer.email
    )
    reason = f"Akkoord per e-mail {reply_id} (sha256 {reply_sha})"

    async def sign_and_seal() -> tuple[bytes, Any]:
        signed = await sign_customer(pdf, one_time, signing.tsa_urls, reason=reason)
        lta = await make_lta(signed, signing.trust_roots, signing.tsa_urls)
        return lta, await validate_pdf(lta, signing.trust_roots)

    final, report = await cpu.in_thread_loop(sign_and_seal)
    await archive_contract(rt, slug, contract_id, message_row_id, final, report, one_time, reason)
