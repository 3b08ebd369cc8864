"""Outgoing mail bookkeeping: stored with its Message-ID and queued in the caller's transaction."""

from __future__ import annotations

import email.message
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import TenantSettings
from bot.domain.data import annex_fields, label, questions
from bot.jobs.queue import defer
from bot.outbox import unsent
from bot.outbox.mailer import FlatMail, compose, flat
from handlers.reader.mime import ParsedMail
from storage.blobs import sha256_hex
from storage.models import Contract, Customer, Message
from storage.repositories import TenantRepo
from storage.rows import insert_rows
from templates import load_manifest
from templates.emails import DEFAULT_ANNEX_NAME


def mail_context(
    tenant: TenantSettings,
    customer: Customer,
    contract: Contract,
    fields: dict[str, str],
    **extra: Any,
) -> dict[str, Any]:
    """What every customer mail template needs, plus the kind's own keys."""
    manifest = load_manifest(contract.template_id)
    lang = customer.language
    return {
        "annex": manifest.annex_name.get(lang) or DEFAULT_ANNEX_NAME.get(lang, "bijlage 1"),
        "contract_language": manifest.language,
        "awaiting_signature": contract.state == "awaiting_signature",
        "tenant_name": tenant.name,
        "customer_name": customer.name,
        "representative": customer.representative,
        "contract_ref": f"{tenant.slug}-{contract.id}",
        "questions": questions(contract.template_id, customer.language, fields),
        "missing": [],
        "invalid": [],
        "sha256": "",
        **extra,
    }


async def queue_mail(
    session: AsyncSession,
    slug: str,
    repo: TenantRepo,
    contract: Contract,
    msg: email.message.EmailMessage,
    kind: str,
    *,
    version: int | None = None,
) -> int:
    """Store the outgoing mail (its Message-ID first) and queue its sending, in one transaction:
    its row's id.

    ``version``: the contract version a final-version mail carries (what a reply accepts)."""
    (row_id,) = await queue_mails(session, slug, repo, [(contract, msg)], kind, version=version)
    return row_id


async def queue_mails(
    session: AsyncSession,
    slug: str,
    repo: TenantRepo,
    mails: Sequence[tuple[Contract, email.message.EmailMessage | FlatMail]],
    kind: str,
    *,
    version: int | None = None,
) -> list[int]:
    """Store outgoing mails and queue one job that sends them all, in the caller's transaction.

    One job, so the mails share an SMTP connection (a bulk send's batch); a retry of the job
    sends those not sent yet.
    """
    values: list[dict[str, Any]] = []
    raws: list[bytes] = []
    for contract, msg in mails:
        mail = msg if isinstance(msg, FlatMail) else flat(msg)
        raws.append(mail.raw)
        values.append(
            {
                "tenant_id": repo.tenant_id,
                "contract_id": contract.id,
                "direction": "out",
                "channel": "email",
                "kind": kind,
                "message_id": mail.message_id,
                "from_addr": mail.from_addr,
                "to_addr": mail.to_addr,
                "subject": mail.subject,
                "raw": mail.raw,
                "raw_sha256": sha256_hex(mail.raw),
                "outcome": "queued",
                "detail": "",
                "version": version,
            }
        )
    # Straight to the driver (storage/rows.py): a bulk send stores a batch of mails at once.
    ids = [row_id for (row_id,) in await insert_rows(session, Message, values)]
    unsent.keep(zip(ids, raws, strict=True))
    await defer(session, "send_messages", tenant=slug, message_row_ids=ids)
    return ids


def customer_mail(
    tenant: TenantSettings,
    customer: Customer,
    contract: Contract,
    kind: str,
    fields: dict[str, str],
    *,
    in_reply_to: str | None = None,
    attachments: Sequence[tuple[str, bytes]] = (),
    **context: Any,
) -> email.message.EmailMessage:
    """A mail of ``kind`` to the contract's customer, in their language; replies come back to
    the contract's reply address (every mail to a customer is made here)."""
    return compose(
        tenant,
        kind=kind,
        lang=customer.language,
        to=customer.email,
        token=contract.reply_token,
        in_reply_to=in_reply_to,
        context=mail_context(tenant, customer, contract, fields, **context),
        attachments=list(attachments),
    )


def followup_mail(
    tenant: TenantSettings,
    customer: Customer,
    contract: Contract,
    fields: dict[str, str],
    mail: ParsedMail,
    **context: Any,
) -> email.message.EmailMessage:
    """A follow-up to the customer, in their language, threaded under the mail it answers."""
    return customer_mail(
        tenant,
        customer,
        contract,
        "followup",
        fields,
        in_reply_to=mail.message_id or None,
        **context,
    )


def named_field(template_id: str, lang: str, field_id: str) -> dict[str, Any]:
    """A field as the follow-up mail names it: its question number and its label."""
    numbers = {a.id: a.number for a in annex_fields(template_id)}
    return {"number": numbers.get(field_id), "label": label(template_id, field_id, lang)}
