"""A contract as staff read it (`dpabot contracts show`): state, version, fields, signatures,
mails. Apart from ops.py so that showing a contract does not load the mail pipeline."""

from __future__ import annotations

import json
from typing import Any

from storage.models import Customer
from storage.repositories import TenantRepo

__all__ = ["contract_report", "contract_text"]


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
