"""What dpabot does, step by step: invite, send, finalize, sign (mail in: bot/inbound.py)."""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy.orm import class_mapper

from bot.contracts.drafts import Drafts
from bot.core.runtime import Runtime
from bot.core.settings import TenantSettings
from bot.domain.workflow import Event, State, decide
from bot.errors import WorkflowError
from bot.jobs import cpu
from bot.outbox.mailer import FlatMail, flat
from bot.outbox.queue import customer_mail, queue_mails
from storage import audit
from storage.blobs import sha256_hex
from storage.errors import NotFound
from storage.models import Contract, ContractVersion, Customer
from storage.rows import insert_rows

log = logging.getLogger(__name__)


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
        repo = rt.repo(s, slug)
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


async def render_draft(
    tenant: TenantSettings, customer: Customer, drafts: Drafts | None = None
) -> tuple[dict[str, str], bytes]:
    """The invitation's party fields and draft PDF (the tenant's shared draft with the
    customer's values stamped in: bot/contracts/drafts.py)."""
    fields = _party_fields(customer)
    return fields, await (drafts or Drafts(tenant)).pdf(fields)


@dataclass(frozen=True)
class Draft:
    """A customer's invitation rendered, not stored yet (store_invitations stores it)."""

    customer: Customer
    fields: dict[str, str]
    pdf: bytes


async def render_invitation(
    tenant: TenantSettings, customer: Customer, drafts: Drafts | None = None
) -> Draft:
    return Draft(customer, *await render_draft(tenant, customer, drafts))


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
    return customer_mail(
        tenant,
        customer,
        contract,
        "invitation",
        fields,
        attachments=[(f"verwerkersovereenkomst{number}-ontwerp.pdf", draft)],
        **extra,
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
        customer = await rt.repo(s, slug).customer(customer_id)
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
        repo = rt.repo(s, slug)
        mine, invited_before = await repo.lock_customers([d.customer.id for d in drafts])
        strangers = [d.customer.id for d in drafts if d.customer.id not in mine]
        if strangers:  # not this tenant's, or gone since the draft was rendered
            raise NotFound(f"There is no customer {strangers[0]} for this tenant.")
        taken = invited_before if once else set()
        fresh: list[Draft] = []
        for d in drafts:
            if d.customer.id in taken:
                continue
            taken.add(d.customer.id)  # twice in one batch: the second is a repeat
            fresh.append(d)
        values = [
            {
                "tenant_id": repo.tenant_id,
                "customer_id": d.customer.id,
                "template_id": tenant.template,
                "state": invited,
                "reply_token": new_token(),
                "chat_token": new_chat_token(),
                "current_version": 1,
            }
            for d in fresh
        ]
        # Straight to the driver (storage/rows.py): the ORM's flush was most of a batch's cost.
        made = await insert_rows(s, Contract, values, returning=_RETURNED)
        contracts = [
            Contract(**v, **dict(zip(_RETURNED, r, strict=True)))
            for v, r in zip(values, made, strict=True)
        ]
        pairs = list(zip(fresh, contracts, strict=True))
        await insert_rows(
            s,
            ContractVersion,
            [
                {
                    "tenant_id": repo.tenant_id,
                    "contract_id": c.id,
                    "number": 1,
                    "fields": d.fields,
                    "pdf_sha256": sha256_hex(d.pdf),
                    "amendments": [],
                    "changed_by": "dpabot",
                    "reason": "invitation",
                }
                for d, c in pairs
            ],
            returning=(),
        )
        mails = list(zip(contracts, await _composed(tenant, pairs), strict=True))
        await queue_mails(s, slug, repo, mails, "invitation")
        await audit.record_many(
            s,
            repo.tenant_id,
            actor,
            [
                ("contract.invited", f"contract:{c.id}", {"customer": d.customer.id})
                for d, c in pairs
            ],
        )
    stored = {id(d): c.id for d, c in pairs}
    return [stored.get(id(d)) for d in drafts]


# The columns PostgreSQL fills in for a new contract, read back for the objects made here.
_RETURNED = ("id", "created_at", "updated_at")

# From this many mails on, a batch's mails are composed in the CPU pool, split over its
# processes (idle now that drafts are stamped), not on the event loop that stores and sends.
POOL_FROM = 8


async def _composed(
    tenant: TenantSettings, fresh: Sequence[tuple[Draft, Contract]]
) -> list[EmailMessage | FlatMail]:
    if len(fresh) < POOL_FROM:
        return [invitation_mail(tenant, d.customer, c, d.fields, d.pdf) for d, c in fresh]
    items = [(_values(d.customer), _values(c), d.fields, d.pdf) for d, c in fresh]
    size = -(-len(items) // cpu.workers())
    parts = await asyncio.gather(
        *(
            cpu.call(compose_invitations, tenant, items[i : i + size])
            for i in range(0, len(items), size)
        )
    )
    return [mail for part in parts for mail in part]


def _values(row: Customer | Contract) -> dict[str, Any]:
    return {a.key: getattr(row, a.key) for a in class_mapper(type(row)).column_attrs}


def compose_invitations(
    tenant: TenantSettings,
    items: Sequence[tuple[dict[str, Any], dict[str, Any], dict[str, str], bytes]],
) -> list[FlatMail]:
    """Invitation mails as bytes (in a pool worker): per item the customer's and the
    contract's column values, the fields and the draft PDF."""
    return [
        flat(invitation_mail(tenant, Customer(**customer), Contract(**contract), fields, pdf))
        for customer, contract, fields, pdf in items
    ]
