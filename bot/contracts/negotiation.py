"""Negotiation: customers' change requests kept for staff, and staff's decisions carried out.

A change request from a reply opens (or keeps) the contract in ``negotiating``; nothing is
finalised while one is open. Staff approve it (the customer's wording becomes the article's text
for this contract), answer with their own wording (a counter-proposal, in force the same way), or
reject it with a reason. Each approval or counter-proposal makes a new contract version whose
``amendments`` the document prints (the article marked, the wording before the signatures) and
whose ``diff`` says what changed; every decision is an audit event and a mail to the customer in
their language. Only approved wording ever reaches the final PDF.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Runtime
from bot.domain.data import annex_fields, document_data
from bot.domain.workflow import Effect, Event, State, decide
from bot.errors import WorkflowError
from bot.jobs import cpu
from bot.jobs.queue import defer
from bot.outbox.chat import queue_for_chat
from bot.outbox.queue import customer_mail, named_field, queue_mail
from storage import audit
from storage.blobs import sha256_hex
from storage.models import ChangeRequest, Contract, Customer, Message
from storage.notify import notify_staff
from storage.repositories import TenantRepo
from templates import unprintable
from templates.articles import article
from templates.chat import notice_text, render_customer, render_staff

log = logging.getLogger(__name__)
Action = Literal["approve", "counter", "reject"]
_STATUS = {"approve": "approved", "counter": "countered", "reject": "rejected"}
EXCERPT = 600  # characters of an article shown to staff next to the request


class DecisionRefused(WorkflowError):
    """A staff decision that cannot apply: the message in English, and a reason code with its
    values so the staff chat can word it in the staff member's language."""

    def __init__(self, message: str, reason: str, **params: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.params = params


@dataclass(frozen=True)
class Decision:
    """What a staff decision did, for the chat's answer."""

    change_request_id: int
    contract_id: int
    status: str
    version: int  # the contract version now in force
    state: str
    finalizing: bool
    still_open: int


def missing_fields(template_id: str, fields: dict[str, str]) -> list[str]:
    """Required annex answers still empty: what stops a version from being final."""
    return [a.id for a in annex_fields(template_id) if a.required and not fields.get(a.id)]


def staff_params(
    slug: str, contract: Contract, customer: Customer, cr: ChangeRequest
) -> dict[str, Any]:
    """What staff read of a change request (JSON, kept with its notice): the customer's words
    and the current article (in the contract's language)."""
    art = article(contract.template_id, cr.article)
    current = ""
    if art is not None:
        current = art.text if len(art.text) <= EXCERPT else art.text[:EXCERPT].rstrip() + " …"
    return {
        "cr": {"id": cr.id, "article": cr.article, "text": cr.text},
        "ref": f"{slug}-{contract.id}",
        "customer": customer.name,
        "art": {"number": art.number, "title": art.title} if art is not None else None,
        "current": current,
    }


def staff_text(
    slug: str, contract: Contract, customer: Customer, cr: ChangeRequest, lang: str = "en"
) -> str:
    """A change request as staff read it, in ``lang``: the customer's words next to the
    current article."""
    return render_staff("change_request", lang, **staff_params(slug, contract, customer, cr))


async def record_requests(
    session: AsyncSession,
    repo: TenantRepo,
    slug: str,
    contract: Contract,
    customer: Customer,
    row: Message,
    requests: list[dict[str, Any]],
) -> int:
    """Store the reply's change requests and tell staff; returns how many are open now."""
    for req in requests:
        text = str(req.get("text") or "").strip()
        if not text:
            continue
        number = str(req["article"]).strip().rstrip(".") if req.get("article") else None
        cr = await repo.add_change_request(
            contract_id=contract.id, message_row_id=row.id, article=number, text=text
        )
        params = staff_params(slug, contract, customer, cr)
        await notify_staff(
            session,
            repo.tenant_id,
            "change_request",
            notice_text("change_request", params),
            f"change_request:{cr.id}",
            params=params,
        )
        await audit.record(
            session,
            repo.tenant_id,
            f"customer:{customer.email}",
            "change.requested",
            f"change_request:{cr.id}",
            {"contract": contract.id, "article": number, "message": row.id},
        )
    return len(await repo.change_requests(contract, status="open"))


def _amended(
    previous: list[dict[str, Any]], cr: ChangeRequest, template_id: str, wording: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The version's amendments with this wording in force, and the diff entry it makes."""
    art = article(template_id, cr.article)
    number = cr.article or ""
    before = next((a["text"] for a in previous if number and a.get("article") == number), None)
    if before is None and art is not None:
        before = art.text
    kept = [a for a in previous if not (number and a.get("article") == number)]
    entry = {
        "article": number,
        "title": art.title if art is not None else "",
        "text": wording,
        "change_request": cr.id,
    }
    return [*kept, entry], {"article": number, "before": before, "after": wording}


async def decide_change(
    rt: Runtime,
    slug: str,
    change_request_id: int,
    *,
    actor: str,
    action: Action,
    text: str = "",
) -> Decision:
    """Carry out one staff decision; raises WorkflowError (plain words) when it cannot apply."""
    tenant = rt.tenant(slug)
    text = " ".join(text.split()) if action == "reject" else text.strip()
    if action == "reject" and not text:
        raise DecisionRefused("A rejection needs a reason: the customer reads it.", "reason_needed")
    if action == "counter" and not text:
        raise DecisionRefused("A counter-proposal needs the wording you propose.", "wording_needed")
    if action == "counter" and unprintable(text):
        bad = " ".join(unprintable(text))
        raise DecisionRefused(
            f"The wording uses characters the contract cannot print: {bad}.",
            "unprintable",
            chars=bad,
        )
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        cr = await repo.change_request(change_request_id, for_update=True)
        contract = await repo.contract(cr.contract_id, for_update=True)
        if cr.status != "open":
            when = cr.decided_at.strftime("%Y-%m-%d %H:%M") if cr.decided_at else ""
            raise DecisionRefused(
                f"Change request {cr.id} was already {cr.status} by {cr.decided_by} "
                f"({when or 'earlier'}).",
                "decided",
                id=cr.id,
                status=cr.status,
                by=cr.decided_by,
                when=when,
            )
        if contract.state != State.NEGOTIATING:
            raise DecisionRefused(
                f"Contract {slug}-{contract.id} is {contract.state}; its change requests can no "
                "longer be decided.",
                "closed",
                ref=f"{slug}-{contract.id}",
                state=contract.state,
            )
        customer = await repo.customer(contract.customer_id)
        version = await repo.version(contract)
        now = dt.datetime.now(dt.UTC)
        cr.status, cr.decided_by, cr.decided_at = _STATUS[action], actor, now
        wording = cr.text if action == "approve" else text
        cr.decision_text = text if action == "reject" else wording
        changed = action != "reject"
        if changed:
            amendments, entry = _amended(
                list(version.amendments or []), cr, contract.template_id, wording
            )
            contract.current_version += 1
            version = await repo.add_version(
                contract,
                number=contract.current_version,
                fields=dict(version.fields),
                amendments=amendments,
                diff={"amendments": [entry], "fields": {}},
                changed_by=actor,
                reason=f"change request {cr.id} {cr.status}",
            )
            cr.version = contract.current_version
        still_open = len(await repo.change_requests(contract, status="open"))
        missing = missing_fields(contract.template_id, version.fields)
        step = decide(
            State(contract.state),
            Event("change_decided", complete=not missing, open_changes=bool(still_open)),
        )
        contract.state = step.state.value
        finalizing = Effect.FINALIZE in step.effects
        if finalizing:
            await defer(
                s,
                "finalize",
                tenant=slug,
                contract_id=contract.id,
                version=contract.current_version,
            )
        await audit.record(
            s,
            repo.tenant_id,
            actor,
            f"change.{cr.status}",
            f"change_request:{cr.id}",
            {
                "contract": contract.id,
                "article": cr.article,
                "version": contract.current_version,
                "text": cr.decision_text,
                **({"note": text} if action == "approve" and text else {}),
            },
        )
        snapshot = (
            contract.id,
            contract.current_version,
            dict(version.fields),
            list(version.amendments or []),
        )
        decision = Decision(
            cr.id,
            contract.id,
            cr.status,
            contract.current_version,
            contract.state,
            finalizing,
            still_open,
        )
        item = {
            "article": cr.article or "",
            "title": getattr(article(contract.template_id, cr.article), "title", ""),
            "status": cr.status,
            "request": cr.text,
            "text": cr.decision_text,
        }
        lang = customer.language
    # The new draft (changes marked) is rendered outside the transaction: it takes a while.
    draft = None
    if changed and not finalizing:
        draft = await cpu.render(
            tenant.template,
            document_data(
                tenant, snapshot[2], version=snapshot[1], draft=True, amendments=snapshot[3]
            ),
            draft=True,
        )
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        contract = await repo.contract(snapshot[0], for_update=True)
        customer = await repo.customer(contract.customer_id)
        if draft is not None:
            version = await repo.version(contract, snapshot[1])
            version.pdf_sha256 = version.pdf_sha256 or sha256_hex(draft)
        still_missing = [
            named_field(contract.template_id, lang, f)
            for f in missing_fields(contract.template_id, snapshot[2])
        ]
        msg = customer_mail(
            tenant,
            customer,
            contract,
            "change_decision",
            snapshot[2],
            attachments=(
                [(f"verwerkersovereenkomst-{contract.id}-v{snapshot[1]}-ontwerp.pdf", draft)]
                if draft is not None
                else []
            ),
            decisions=[item],
            finalizing=finalizing,
            changed=draft is not None,
            pending=decision.still_open > 0,
            missing=[] if finalizing else still_missing,
        )
        await queue_mail(s, slug, repo, contract, msg, "change_decision")

        # A customer bound in the chat hears the decision there too.
        await queue_for_chat(
            repo,
            contract,
            "decision",
            render_customer(
                "decision",
                lang,
                decisions=[item],
                finalizing=finalizing,
                pending=decision.still_open > 0,
            ),
        )
    log.info("tenant %s change request %s %s", slug, change_request_id, decision.status)
    return decision


async def open_requests(
    rt: Runtime, slug: str, actor: str, lang: str = "en"
) -> list[tuple[int, str]]:
    """Staff's list of open change requests (id, staff_text in ``lang``), oldest first;
    audited."""
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        out = []
        for cr in await repo.change_requests(None, status="open"):
            contract = await repo.contract(cr.contract_id)
            customer = await repo.customer(contract.customer_id)
            out.append((cr.id, staff_text(slug, contract, customer, cr, lang)))
        await audit.record(s, repo.tenant_id, actor, "lookup.changes", "", {"open": len(out)})
        return out
