"""What became of a customer's message: its outcome kept and audited, staff told if need be."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bot.contracts import stranger
from bot.core.runtime import Runtime
from storage import audit
from storage.models import Contract, Message
from storage.notify import notify_grouped, notify_staff
from storage.repositories import TenantRepo
from templates.chat import notice_text

log = logging.getLogger(__name__)


async def shunt(rt: Runtime, slug: str, message_row_id: int, exc: Exception) -> None:
    """Set a stored mail aside with its error for staff; it stays kept, never dropped."""
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        row = await repo.message(message_row_id)
        row.outcome = "shunted"
        row.detail = f"{type(exc).__name__}: {exc}"[:2000]
        row.processed_at = dt.datetime.now(dt.UTC)
        await audit.record(
            s,
            repo.tenant_id,
            "dpabot",
            "message.shunted",
            f"message:{row.id}",
            {"error": type(exc).__name__},
        )
        params = {"error": type(exc).__name__}
        await notify_staff(
            s,
            repo.tenant_id,
            "shunted",
            notice_text("shunted", params),
            f"message:{row.id}",
            params=params,
        )


STAFF_MUST_KNOW = {
    "rejected_sender": "A reply came from an address that was not invited; it was kept, not used",
    "unknown_token": "A mail matched no open contract; it was kept, not used",
    "closed_contract": "A reply came for a contract that is already closed; it was kept",
    "bounce": "A mail to a customer bounced",
    "unauthenticated": "A reply failed the DKIM/DMARC check; it was kept, not used",
    "refused_too_large": "A reply was too large; it was kept and the sender was told",
    "refused_attachment": "A reply had a too large attachment; it was kept, the sender was told",
}


async def settle(
    session: AsyncSession,
    repo: TenantRepo,
    row: Message,
    outcome: str,
    detail: str,
    contract: Contract | None = None,
) -> None:
    row.outcome = outcome
    row.detail = detail
    row.processed_at = dt.datetime.now(dt.UTC)
    if contract is not None:
        row.contract_id = contract.id
    await audit.record(
        session,
        repo.tenant_id,
        "dpabot",
        f"message.{outcome}",
        f"message:{row.id}",
        {"detail": detail[:200]},
    )
    log.info("tenant %s message %s: %s (%s)", repo.tenant_id, row.id, outcome, detail)
    if outcome not in STAFF_MUST_KNOW:
        return
    # Kept, not applied: staff hear of it in plain words; the sender learns nothing.
    if stranger.grouped(outcome, contract is not None):
        # Anyone can send these: a flood is one notice per sender and hour, not one per mail.
        sender = stranger.sender_of(row.from_addr or "")
        first = f"{STAFF_MUST_KNOW[outcome]} ({detail[:300]}; from {sender})."
        await notify_grouped(
            session,
            repo.tenant_id,
            outcome,
            sender,
            stranger.text_for(outcome, first),
            f"message:{row.id}",
            params={"detail": detail[:300], "sender": sender},
        )
        return
    params = {"detail": detail[:300], "sender": None}
    await notify_staff(
        session,
        repo.tenant_id,
        outcome,
        notice_text(outcome, params),
        f"message:{row.id}",
        params=params,
    )
