"""Operator commands on a running configuration: re-inject a mail, show a contract as it is."""

from __future__ import annotations

import email
import email.policy
import json
from typing import Any

from bot import mail
from bot.core.runtime import Runtime
from bot.jobs import run_jobs_until_idle
from storage import audit
from storage.blobs import sha256_hex
from storage.models import Customer
from storage.repositories import TenantRepo

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
    message_id = (head.get("Message-ID") or "").strip()[:900]
    message_id = message_id or f"<sha256-{sha256_hex(raw)}@dpabot.invalid>"
    async with rt.db.transaction() as s:
        found = await rt.repo(s, slug).inbound_id(message_id)
    if found is None:
        raise LookupError("the mail was neither stored nor found")
    return int(found)


def _detail(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


async def contract_report(repo: TenantRepo, contract_id: int) -> dict[str, Any]:
    """A contract as it stands: state, version, fields, signatures, each mail's last outcome."""
    contract = await repo.contract(contract_id)
    customer: Customer = await repo.customer(contract.customer_id)
    version = await repo.version(contract)
    messages = await repo.messages(contract)
    return {
        "id": contract.id,
        "customer": {"id": customer.id, "name": customer.name, "email": customer.email},
        "template": contract.template_id,
        "state": contract.state,
        "version": contract.current_version,
        "fields": dict(version.fields),
        "final_sha256": version.sent_pdf_sha256,
        "signatures": [
            {
                "party": g.party,
                "version": g.version,
                "signer": g.signer,
                "method": g.method,
                "signed_at": g.signed_at.isoformat(),
            }
            for g in await repo.signatures(contract)
        ],
        "inbound": [
            {
                "message": m.id,
                "channel": m.channel,
                "from": m.from_addr,
                "message_id": m.message_id,
                "received_at": m.created_at.isoformat(),
                "outcome": m.outcome,
                "detail": _detail(m.detail),
            }
            for m in messages
            if m.direction == "in"
        ],
        "outbound": [
            {"message": m.id, "kind": m.kind, "version": m.version, "outcome": m.outcome}
            for m in messages
            if m.direction == "out"
        ],
    }


def contract_text(report: dict[str, Any]) -> str:
    """The report for a person: one line per signature and per inbound mail."""
    c = report["customer"]
    lines = [
        f"Contract {report['id']} ({report['template']}) with {c['name']} <{c['email']}>",
        f"State: {report['state']}, version {report['version']}",
    ]
    for fid, value in report["fields"].items():
        lines.append(f"  {fid}: {value or '-'}")
    for g in report["signatures"]:
        lines.append(
            f"Signature: {g['party']} (v{g['version']}) {g['signer']}, {g['method']}, "
            f"{g['signed_at']}"
        )
    for m in report["inbound"]:
        lines.append(
            f"Mail {m['message']} from {m['from'] or '-'} at {m['received_at']}: {m['outcome']}"
        )
    return "\n".join(lines)
