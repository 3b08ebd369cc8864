"""Operator commands on a running configuration: re-inject a mail (showing a contract is in
bot/app/report.py, re-exported here)."""

from __future__ import annotations

import email
import email.policy
from typing import Any

from bot import mail
from bot.app.report import contract_report, contract_text
from bot.core.runtime import Runtime
from bot.jobs import run_jobs_until_idle
from storage import audit

__all__ = ["INGEST_MAILBOX", "contract_report", "contract_text", "ingest"]

# Mail put in by hand has no IMAP folder or UID; its Message-ID (or its hash) keeps it unique.
INGEST_MAILBOX = "dpabot-ingest"


async def ingest(rt: Runtime, slug: str, raw: bytes, actor: str) -> dict[str, Any]:
    """One raw mail through the listener's own pipeline: stored, queued, processed.

    The result names the stored message and its outcome; a mail already stored (same
    Message-ID) is not processed twice, as with IMAP.
    """
    row_id = await mail.store_inbound(rt, slug, INGEST_MAILBOX, 0, None, raw)
    stored = row_id is not None
    if row_id is None:
        row_id = await _existing(rt, slug, raw)
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        await audit.record(
            s, repo.tenant_id, actor, "message.ingested", f"message:{row_id}", {"new": stored}
        )
    await run_jobs_until_idle(rt)
    async with rt.db.transaction() as s:
        row = await rt.repo(s, slug).message(row_id)
        return {
            "message": row.id,
            "new": stored,
            "message_id": row.message_id,
            "outcome": row.outcome,
            "detail": row.detail,
            "contract": row.contract_id,
        }


async def _existing(rt: Runtime, slug: str, raw: bytes) -> int:
    """The row of a mail stored before (by its Message-ID, else its hash)."""

    head = email.message_from_bytes(raw[:65536], policy=email.policy.compat32)
    message_id = mail.inbound_key(raw, str(head.get("Message-ID") or ""))
    async with rt.db.transaction() as s:
        found = await rt.repo(s, slug).inbound_id(message_id)
    if found is None:
        raise LookupError("the mail was neither stored nor found")
    return int(found)
