"""A customer who signs the final PDF with their own certificate (eID, any PAdES tool).

The reply pipeline spots a returned PDF carrying a signature of the customer's and queues
:func:`check_returned`; that job compares it with the exact bytes dpabot mailed
(signing.check_returned_pdf), then either accepts it as the customer's signature (the
customer-sign job adds the processor's part if it signs second, LTA data, and archives) or
answers the customer with the reason in their language (by mail, and in the bound chat when
the PDF came from there) and tells staff the details. A valid signature by someone other than
the invited person waits for staff (:func:`confirm_signer`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.contracts.inbox import settle, shunt
from bot.core.runtime import Runtime
from bot.domain.workflow import Event, State, decide
from bot.errors import WorkflowError, is_transient
from bot.jobs.queue import defer
from bot.outbox import queue_for_chat
from bot.outbox.queue import followup_mail, queue_mail
from handlers.reader.mime import parse_mail
from signing import check_returned_pdf
from signing.returned import REASONS
from storage import audit
from storage.blobs import sha256_hex
from storage.models import Contract, Message
from storage.notify import notify_staff
from storage.repositories import TenantRepo
from templates.chat import notice_text

log = logging.getLogger(__name__)


def returned_pdf(raw: bytes, sha256: str) -> bytes:
    """The attachment of a stored mail that was checked (by its hash)."""
    for att in parse_mail(raw).attachments:
        if sha256_hex(att.data) == sha256:
            return att.data
    raise RuntimeError("the checked PDF is no longer in the stored mail")


def detail_of(row: Message) -> dict[str, Any]:
    """The structured detail a returned-PDF message carries (see :func:`check_returned`)."""
    try:
        value = json.loads(row.detail or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def check_returned(
    rt: Runtime, slug: str, contract_id: int, message_row_id: int, *, final_attempt: bool = True
) -> None:
    """Check a returned signed PDF and accept or refuse it (a job: runs outside the reply's
    transaction because rendering pages for the comparison takes seconds). An outage is
    retried; a mail that still fails on the last attempt is shunted for staff, never lost."""
    try:
        await _check(rt, slug, contract_id, message_row_id)
    except Exception as exc:  # the job's last wall: retried or shunted
        if is_transient(exc) and not final_attempt:
            raise
        log.exception("signed PDF in message %s of %s shunted", message_row_id, slug)
        await shunt(rt, slug, message_row_id, exc)


async def _check(rt: Runtime, slug: str, contract_id: int, message_row_id: int) -> None:
    signing = rt.signing[slug]
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        row = await repo.message(message_row_id)
        if row.outcome != "signature_check":
            return  # decided already (the job ran twice)
        info = detail_of(row)
        contract = await repo.contract(contract_id)
        version = await repo.version(contract, info["version"])
        customer = await repo.customer(contract.customer_id)
        sent_path = version.sent_pdf_path
        raw = row.raw
    returned = returned_pdf(raw, info["returned_sha256"])
    if sent_path is None:
        raise RuntimeError(f"version {info['version']} of contract {contract_id} was never sent")
    sent = rt.blobs.get(sent_path)
    verdict = await check_returned_pdf(
        sent,
        returned,
        signing.customer_trust_roots,
        customer_name=customer.representative,
        customer_email=customer.email,
    )
    tenant = rt.tenant(slug)
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        contract = await repo.contract(contract_id, for_update=True)
        row = await repo.message(message_row_id)
        if row.outcome != "signature_check":
            return
        info["verdict"] = verdict.to_dict()
        stale = (
            contract.state != State.AWAITING_SIGNATURE
            or contract.current_version != info["version"]
        )
        if verdict.ok and not stale:
            await _accept(s, slug, repo, contract, row, info, confirmed_by=None)
            return
        customer = await repo.customer(contract.customer_id)
        if stale:
            outcome = "signature_refused"
            text = (
                f"Contract {slug}-{contract.id} is {contract.state} at version "
                f"{contract.current_version}; the signed PDF was for version {info['version']}."
            )
            sentence = _not_current(customer.language)
        else:
            outcome = (
                "signer_unconfirmed" if verdict.needs_staff_confirmation else ("signature_refused")
            )
            text = verdict.staff_detail
            sentence = verdict.reason.get(customer.language) or verdict.reason["en"]
        version = await repo.version(contract)
        msg = followup_mail(
            tenant, customer, contract, version.fields, parse_mail(row.raw), notice=sentence
        )
        await queue_mail(s, slug, repo, contract, msg, "followup")
        if row.channel == "telegram":  # sent in the chat: the reason goes back there too
            await queue_for_chat(repo, contract, outcome, sentence)
        row.detail = json.dumps(info)
        await settle(s, repo, row, outcome, row.detail, contract)
        params = {
            "ref": f"{slug}-{contract.id}",
            "customer": customer.name,
            "stale": {
                "state": contract.state,
                "version": contract.current_version,
                "signed": info["version"],
            }
            if stale
            else None,
            "detail": text,
            "confirm": f"dpabot contracts confirm-signer --tenant {slug} {row.id}"
            if outcome == "signer_unconfirmed"
            else None,
        }
        await notify_staff(
            s,
            repo.tenant_id,
            outcome,
            notice_text(outcome, params),
            f"message:{row.id}",
            params=params,
        )


def _not_current(lang: str) -> str:
    return REASONS["not_sent_version"].get(lang) or REASONS["not_sent_version"]["en"]


async def _accept(
    s: AsyncSession,
    slug: str,
    repo: TenantRepo,
    contract: Contract,
    row: Message,
    info: dict[str, Any],
    *,
    confirmed_by: str | None,
) -> None:
    step = decide(State(contract.state), Event("signed_returned"))
    contract.state = step.state.value
    if confirmed_by is not None:
        info["confirmed_by"] = confirmed_by
    row.detail = json.dumps(info)
    await settle(s, repo, row, "signature_accepted", row.detail, contract)
    await defer(
        s,
        "customer_sign",
        tenant=slug,
        contract_id=contract.id,
        message_row_id=row.id,
        returned_sha256=info["returned_sha256"],
    )


async def confirm_signer(rt: Runtime, slug: str, message_row_id: int, actor: str) -> int:
    """Staff confirm that a validly signed PDF's signer may sign for the customer; the
    contract then goes on as if the names had matched. Returns the contract id."""
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        row = await repo.message(message_row_id)
        if row.outcome != "signer_unconfirmed" or row.contract_id is None:
            raise WorkflowError(
                f"Message {message_row_id} is not a signed PDF waiting for a signer's "
                f"confirmation (it is {row.outcome})."
            )
        info = detail_of(row)
        contract = await repo.contract(row.contract_id, for_update=True)
        if contract.state != State.AWAITING_SIGNATURE or contract.current_version != info.get(
            "version"
        ):
            raise WorkflowError(
                f"Contract {slug}-{contract.id} moved on ({contract.state}, version "
                f"{contract.current_version}); the customer must sign the current version."
            )
        await _accept(s, slug, repo, contract, row, info, confirmed_by=actor)
        await audit.record(
            s,
            repo.tenant_id,
            actor,
            "signature.signer_confirmed",
            f"contract:{contract.id}",
            {"message": row.id, "signer": (info.get("verdict") or {}).get("signer_cn")},
        )
        return contract.id
