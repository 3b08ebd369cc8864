"""What dpabot does, step by step: invite, send, finalize, sign (mail in: bot/inbound.py)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from bot.contracts.final_mail import final_mail
from bot.core.errors import WorkflowError
from bot.core.runtime import Runtime
from bot.core.settings import TenantSettings
from bot.domain.data import document_data
from bot.domain.workflow import Event, State, decide
from bot.jobs import cpu
from bot.mail.inbound import process_inbound, store_inbound
from bot.outbox.mailer import compose
from bot.outbox.queue import mail_context, queue_mail, queue_mails
from bot.transports.errors import TransportError
from signing.keys import signer_identity
from storage import audit
from storage.blobs import sha256_hex
from storage.database import raw_connection
from storage.errors import NotFound
from storage.models import Contract, ContractVersion, Customer
from storage.notify import notify_staff
from storage.repositories import TenantRepo

log = logging.getLogger(__name__)
__all__ = [
    "AlreadyInvited",
    "Draft",
    "add_customer",
    "chat_link",
    "customer_sign",
    "finalize",
    "invitation_mail",
    "invite",
    "new_chat_token",
    "new_token",
    "process_inbound",
    "render_draft",
    "render_invitation",
    "send_message",
    "send_messages",
    "store_inbound",
    "store_invitations",
]


def new_token() -> str:
    """128 random bits in lowercase base32: safe in a mail address's local part."""
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


def new_chat_token() -> str:
    """192 random bits, 32 characters of [A-Za-z0-9_-]: a Telegram deep link's payload."""
    return secrets.token_urlsafe(24)


def chat_link(tenant: TenantSettings, contract: Contract) -> str:
    """The deep link to the tenant's bot for this contract ("" without a bot username)."""
    tg = tenant.telegram
    if tg is None or not tg.bot_username or not contract.chat_token:
        return ""
    return f"https://t.me/{tg.bot_username}?start={contract.chat_token}"


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


class AlreadyInvited(WorkflowError):
    """invite(once=True) found a contract for the customer already (another run got there)."""


async def render_draft(tenant: TenantSettings, customer: Customer) -> tuple[dict[str, str], bytes]:
    """The invitation's party fields and draft PDF (rendered in the CPU pool)."""
    fields = _party_fields(customer)
    draft = await cpu.render(
        tenant.template, document_data(tenant, fields, version=1, draft=True), draft=True
    )
    return fields, draft


@dataclass(frozen=True)
class Draft:
    """A customer's invitation rendered, not stored yet (store_invitations stores it)."""

    customer: Customer
    fields: dict[str, str]
    pdf: bytes


async def render_invitation(tenant: TenantSettings, customer: Customer) -> Draft:
    return Draft(customer, *await render_draft(tenant, customer))


def invitation_mail(
    tenant: TenantSettings,
    customer: Customer,
    contract: Contract,
    fields: dict[str, str],
    draft: bytes,
) -> EmailMessage:
    """The invitation with its draft PDF; a contract not stored yet (id None: a preview) has
    no reference in the subject or the file name."""
    extra: dict[str, str] = {} if contract.id is not None else {"contract_ref": ""}
    extra["chat_link"] = chat_link(tenant, contract)
    number = f"-{contract.id}" if contract.id is not None else ""
    return compose(
        tenant,
        kind="invitation",
        lang=customer.language,
        to=customer.email,
        token=contract.reply_token,
        context=mail_context(tenant, customer, contract, fields, **extra),
        attachments=[(f"verwerkersovereenkomst{number}-ontwerp.pdf", draft)],
    )


async def invite(
    rt: Runtime, slug: str, customer_id: int, *, actor: str = "dpabot", once: bool = False
) -> int:
    """Open a contract for the customer and queue the invitation with the draft PDF.

    once: raise AlreadyInvited, storing nothing, when the customer has a contract already
    (checked under a lock on the customer, so two bulk sends never invite anyone twice).
    """
    tenant = rt.tenant(slug)
    async with rt.db.transaction() as s:
        customer = await _repo(rt, s, slug).customer(customer_id)
    draft = await render_invitation(tenant, customer)
    (contract_id,) = await store_invitations(rt, slug, [draft], actor=actor, once=once)
    if contract_id is None:
        raise AlreadyInvited(f"Customer {customer.id} has been invited already.")
    return contract_id


async def store_invitations(
    rt: Runtime, slug: str, drafts: Sequence[Draft], *, actor: str, once: bool
) -> list[int | None]:
    """Store rendered invitations in one transaction: per customer a contract (invited), its
    first version, the mail and an audit event; one job sends the mails. The contract ids, in
    order; None for a customer with a contract already (once=True, checked under a lock on the
    customers, so two bulk sends never invite anyone twice)."""
    tenant = rt.tenant(slug)
    # The mail is queued in the same transaction: the contract is born invited.
    invited = decide(State.DRAFT, Event("invitation_sent")).state.value
    async with rt.db.transaction() as s:
        repo = _repo(rt, s, slug)
        mine, invited_before = await repo.lock_customers([d.customer.id for d in drafts])
        strangers = [d.customer.id for d in drafts if d.customer.id not in mine]
        if strangers:  # not this tenant's, or gone since the draft was rendered
            raise NotFound(f"There is no customer {strangers[0]} for this tenant.")
        taken = invited_before if once else set()
        fresh: list[tuple[Draft, Contract]] = []
        for d in drafts:
            if d.customer.id in taken:
                continue
            taken.add(d.customer.id)  # twice in one batch: the second is a repeat
            contract = Contract(
                customer_id=d.customer.id,
                template_id=tenant.template,
                state=invited,
                reply_token=new_token(),
                chat_token=new_chat_token(),
                current_version=1,
            )
            fresh.append((d, contract))
        await repo.add_all([c for _, c in fresh])
        await repo.add_all(
            [
                ContractVersion(
                    contract_id=c.id,
                    number=1,
                    fields=d.fields,
                    pdf_sha256=sha256_hex(d.pdf),
                    changed_by="dpabot",
                    reason="invitation",
                )
                for d, c in fresh
            ]
        )
        mails = [(c, invitation_mail(tenant, d.customer, c, d.fields, d.pdf)) for d, c in fresh]
        await queue_mails(s, slug, repo, mails, "invitation")
        await audit.record_many(
            s,
            repo.tenant_id,
            actor,
            [
                ("contract.invited", f"contract:{c.id}", {"customer": d.customer.id})
                for d, c in fresh
            ],
        )
    stored = {id(d): c.id for d, c in fresh}
    return [stored.get(id(d)) for d in drafts]


async def send_message(rt: Runtime, slug: str, message_row_id: int) -> None:
    """send_messages() of one mail (jobs queued before mails were sent in batches)."""
    await send_messages(rt, slug, [message_row_id])


async def send_messages(
    rt: Runtime, slug: str, message_row_ids: Sequence[int], *, final_attempt: bool = False
) -> None:
    """Hand stored outgoing mails to the tenant's transport, as stored (no parsing and
    flattening again), over one connection; each is marked sent as soon as the server took it.

    A mail that fails does not hold up the others; the job fails after trying them all, so
    its retry (with backoff) sends only those not sent yet. On the job's last attempt a mail
    that still fails is marked failed and the tenant's staff are told which and why.
    """
    async with rt.db.transaction() as s:
        pending = await _repo(rt, s, slug).unsent_messages(message_row_ids)
    if not pending:
        return  # at-least-once delivery of the job; the mails went already
    failures: list[tuple[int, TransportError]] = []
    async with rt.senders[slug].session() as send:
        for row_id, kind, raw in pending:
            try:
                await send(raw)
            except TransportError as exc:
                log.warning("Sending message %s failed: %s", row_id, exc)
                failures.append((row_id, exc))
                continue
            # Marked before the next mail leaves: should the worker die at any moment, the
            # retry sends again at most one mail that had gone (this one, or the one in flight).
            await _mark_sent(rt, slug, row_id, kind, raw)
    if not failures:
        return
    if final_attempt:
        await _give_up(rt, slug, failures)
        return
    first = failures[0][1]
    if len(failures) == 1:
        raise first
    raise TransportError(
        f"{len(failures)} of {len(pending)} mails were not sent; the first: {first}"
    ) from first


async def _give_up(rt: Runtime, slug: str, failures: Sequence[tuple[int, TransportError]]) -> None:
    """Mails that failed every attempt: marked failed (kept as queued), staff told each."""
    async with rt.db.transaction() as s:
        repo = _repo(rt, s, slug)
        for row_id, exc in failures:
            row = await repo.message(row_id)
            row.outcome = "failed"
            row.detail = str(exc)
            row.processed_at = dt.datetime.now(dt.UTC)
            ref = f"{slug}-{row.contract_id}" if row.contract_id is not None else "no contract"
            await notify_staff(
                s,
                repo.tenant_id,
                "undeliverable",
                f"The {row.kind or 'outgoing'} mail to {row.to_addr} ({ref}) could not be sent"
                f" after every retry: {exc}",
                subject=f"message:{row_id}",
            )
            await audit.record(
                s,
                repo.tenant_id,
                "dpabot",
                "message.undeliverable",
                f"message:{row_id}",
                {"to": row.to_addr, "reason": str(exc)},
            )


async def _mark_sent(rt: Runtime, slug: str, row_id: int, kind: str, raw: bytes) -> None:
    """One mail marked sent, in a transaction of its own (a secret's body removed)."""
    kept = redacted(raw) if kind in SECRET_KINDS else None
    async with rt.db.transaction() as s:
        # Without waiting for the WAL to reach the disk (an fsync per mail): what must not lose
        # the mark is the worker dying (kill -9, a crash), and a commit survives that once
        # PostgreSQL has it. Only PostgreSQL itself crashing could lose the last fraction of a
        # second of marks: those mails would go twice, never be lost.
        await (await raw_connection(s)).execute("SET LOCAL synchronous_commit = off")
        await _repo(rt, s, slug).mark_sent(row_id, raw=kept)


# Mails whose body is a secret once sent (a one-time chat code): kept as headers only.
SECRET_KINDS = frozenset({"chat_code"})


def redacted(raw: bytes) -> bytes:
    """The mail's headers, its body replaced by a note: the stored copy reveals no code."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        head, found, _ = raw.partition(sep)
        if found:
            break
    else:
        head = b""
    # The headers still name the multipart body; this note is what the stored copy holds now.
    return head + b"\r\n\r\n[body removed after sending: it held a one-time chat code]\r\n"


async def _final_sent(repo: TenantRepo, contract: Contract, version_no: int) -> bool:
    version = await repo.version(contract, version_no)
    if version.sent_pdf_path is not None:
        return True
    # Rows from before sent_pdf_path: the processor's signature marked the final as sent.
    return any(
        g.version == version_no and g.party == "processor" for g in await repo.signatures(contract)
    )


def _processor_reason(slug: str, contract_id: int, version_no: int) -> str:
    return f"Verwerkersovereenkomst {slug}-{contract_id} versie {version_no}"


async def finalize(rt: Runtime, slug: str, contract_id: int, version_no: int) -> None:
    """Render the agreed version and mail it for signature: certified by the processor first,
    or (tenant order ``customer_first``) unsigned, the processor countersigning after."""
    tenant = rt.tenant(slug)
    signing = rt.signing[slug]
    async with rt.db.transaction() as s:
        repo = _repo(rt, s, slug)
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
        from signing import certify_processor

        sent = await cpu.in_thread_loop(
            lambda: certify_processor(
                pdf,
                signing.processor_signer,
                signing.tsa_urls,
                reason=_processor_reason(tenant.slug, contract_id, version_no),
                location=tenant.place or None,
            )
        )
    now = dt.datetime.now(dt.UTC)
    path = rt.blobs.put(slug, now.year, sent, ".pdf")
    digest = sha256_hex(sent)
    async with rt.db.transaction() as s:
        repo = _repo(rt, s, slug)
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
                **_processor_signature(signing, contract.id, version_no, str(path), digest),
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
        from bot.chat.customer import queue_final

        # A customer bound in the chat gets it there too, with the acceptance button.
        await queue_final(
            s, repo.tenant_id, tenant.name, customer, contract, str(path), digest, processor_first
        )
        await audit.record(
            s,
            repo.tenant_id,
            "dpabot",
            "contract.processor_signed" if processor_first else "contract.final_sent",
            f"contract:{contract.id}",
            {"version": version_no, "sha256": digest},
        )


def _processor_signature(
    signing: Any, contract_id: int, version_no: int, blob_path: str, pdf_sha256: str
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


async def customer_sign(
    rt: Runtime,
    slug: str,
    contract_id: int,
    message_row_id: int,
    *,
    returned_sha256: str | None = None,
) -> None:
    """The customer's signature, then the processor's if it signs second, LTA data, archive.

    The customer's signature is either one dpabot applies with a one-time certificate on the
    acceptance reply, or (``returned_sha256``) the customer's own, on the PDF they returned
    in message ``message_row_id`` and that bot.own_signature checked.
    """
    from bot.archive.store import archive_contract
    from bot.contracts.own_signature import detail_of, returned_pdf
    from signing import approve_processor, make_lta, sign_customer, validate_pdf

    tenant = rt.tenant(slug)
    signing = rt.signing[slug]
    async with rt.db.transaction() as s:
        repo = _repo(rt, s, slug)
        contract = await repo.contract(contract_id)
        if contract.state != State.CUSTOMER_SIGNED:
            return  # done already, or superseded
        version_no = contract.current_version
        customer = await repo.customer(contract.customer_id)
        reply = await repo.message(message_row_id)
        version = await repo.version(contract)
        sent_path = version.sent_pdf_path or next(
            (
                g.blob_path
                for g in await repo.signatures(contract)
                if g.version == version_no and g.party == "processor"
            ),
            None,
        )
        if sent_path is None:
            raise RuntimeError(f"contract {contract_id} has no final PDF that was sent")
    evidence = {"message_id": reply.message_id, "raw_sha256": reply.raw_sha256}
    processor_last = signing.order == "customer_first"
    rows: list[dict[str, Any]] = []
    if returned_sha256 is not None:
        own = returned_pdf(reply.raw, returned_sha256)
        checked = detail_of(reply)
        verdict = checked.get("verdict") or {}
        reason = f"Eigen handtekening, teruggestuurd per e-mail {reply.message_id}"
        rows.append(
            {
                "party": "customer",
                "signer": verdict.get("signer_cn") or customer.representative,
                "cert_sha256": verdict.get("cert_sha256") or "",
                "method": "own_certificate",
                "evidence": {
                    **evidence,
                    "returned_pdf_sha256": returned_sha256,
                    "signer_email": verdict.get("signer_email"),
                    "confirmed_by": checked.get("confirmed_by"),
                    "check": verdict.get("staff_detail"),
                },
            }
        )
    else:
        sent = rt.blobs.get(sent_path)
        one_time = signing.customer_ca.issue_one_time(
            customer.representative, customer.name, customer.email
        )
        method = "reply_acceptance"
        reason = f"Akkoord per e-mail {reply.message_id} (sha256 {reply.raw_sha256})"
        if reply.channel == "telegram":
            # Accepted with the chat's button: the stored update (user, chat, message, time,
            # the bound address) is the evidence, as the reply mail is by mail.
            tg = json.loads(reply.raw)
            evidence = {
                **evidence,
                "channel": "telegram",
                "telegram_user_id": tg["telegram_user_id"],
                "chat_id": tg["chat_id"],
                "telegram_message_id": tg["message_id"],
                "received_at": tg["received_at"],
                "bound_email": tg["bound_email"],
            }
            method = "chat_acceptance"
            reason = (
                f"Akkoord via Telegram (gebruiker {tg['telegram_user_id']}, chat "
                f"{tg['chat_id']}, bericht {tg['message_id']}, {tg['received_at']}) door "
                f"{tg['bound_email']} (sha256 {reply.raw_sha256})"
            )
        signer_name, cert_sha = signer_identity(one_time)
        rows.append(
            {
                "party": "customer",
                "signer": signer_name,
                "cert_sha256": cert_sha,
                "method": method,
                "evidence": {**evidence, "reason": reason},
            }
        )
    if processor_last:
        row = _processor_signature(signing, contract_id, version_no, "", "")
        rows.append({k: row[k] for k in ("party", "signer", "cert_sha256", "method")})

    async def sign_and_seal() -> tuple[bytes, Any]:
        if returned_sha256 is not None:
            signed = own
        else:
            signed = await sign_customer(sent, one_time, signing.tsa_urls, reason=reason)
        if processor_last:
            signed = await approve_processor(
                signed,
                signing.processor_signer,
                signing.tsa_urls,
                reason=_processor_reason(tenant.slug, contract_id, version_no),
                location=tenant.place or None,
            )
        lta = await make_lta(signed, signing.all_roots, signing.tsa_urls)
        return lta, await validate_pdf(lta, signing.all_roots)

    final, report = await cpu.in_thread_loop(sign_and_seal)
    await archive_contract(rt, slug, contract_id, message_row_id, final, report, rows)
