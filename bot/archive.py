"""Archive a completed contract: signed PDF, evidence and manifest, content-addressed."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from bot.mailer import compose
from bot.outbox import mail_context, queue_mail
from bot.runtime import Runtime
from bot.workflow import Event, State, decide
from signing.keys import signer_identity
from storage import audit
from storage.blobs import sha256_hex
from storage.repositories import TenantRepo


def new_archive_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%d}-{secrets.token_hex(5)}"


async def archive_contract(
    rt: Runtime,
    slug: str,
    contract_id: int,
    reply_row_id: int,
    pdf: bytes,
    report: Any,
    one_time_signer: Any,
    reason: str,
) -> str:
    """Store the B-LTA PDF, the raw acceptance mail and a manifest; complete the contract."""
    tenant = rt.tenant(slug)
    now = dt.datetime.now(dt.UTC)
    async with rt.db.transaction() as s:
        repo = TenantRepo(s, rt.tenant_ids[slug])
        contract = await repo.contract(contract_id, for_update=True)
        if contract.state != State.CUSTOMER_SIGNED:
            existing = await repo.archive_entry_for(contract)
            return existing.id if existing else ""
        customer = await repo.customer(contract.customer_id)
        reply = await repo.message(reply_row_id)
        versions = await repo.versions(contract)
        signer_name, cert_sha = signer_identity(one_time_signer)
        pdf_path = rt.archive.put(slug, now.year, pdf, ".pdf")
        evidence_path = rt.archive.put(slug, now.year, reply.raw, ".eml")
        digest = sha256_hex(pdf)
        await repo.add_signature(
            contract_id=contract.id,
            version=contract.current_version,
            party="customer",
            signer=signer_name,
            cert_sha256=cert_sha,
            method="reply_acceptance",
            blob_path=str(pdf_path),
            pdf_sha256=digest,
            evidence={
                "message_id": reply.message_id,
                "raw_sha256": reply.raw_sha256,
                "reason": reason,
            },
        )
        signatures = await repo.signatures(contract)
        archive_id = new_archive_id(now)
        manifest = {
            "archive_id": archive_id,
            "tenant": {
                "slug": tenant.slug,
                "name": tenant.name,
                "enterprise_number": tenant.enterprise_number,
            },
            "customer": {
                "name": customer.name,
                "enterprise_number": customer.enterprise_number,
                "representative": customer.representative,
                "email": customer.email,
            },
            "contract": {
                "id": contract.id,
                "template": contract.template_id,
                "version": contract.current_version,
            },
            "fields": versions[-1].fields,
            "versions": [
                {
                    "number": v.number,
                    "pdf_sha256": v.pdf_sha256,
                    "changed_by": v.changed_by,
                    "reason": v.reason,
                    "at": v.created_at.isoformat(),
                }
                for v in versions
            ],
            "signatures": [
                {
                    "party": g.party,
                    "version": g.version,
                    "signer": g.signer,
                    "cert_sha256": g.cert_sha256,
                    "method": g.method,
                    "pdf_sha256": g.pdf_sha256,
                    "evidence": g.evidence,
                }
                for g in signatures
            ],
            "pdf": {"sha256": digest, "path": str(pdf_path)},
            "evidence": [
                {
                    "kind": "acceptance_mail",
                    "message_id": reply.message_id,
                    "sha256": reply.raw_sha256,
                    "path": str(evidence_path),
                }
            ],
            "validation": report.to_dict(),
            "archived_at": now.isoformat(),
        }
        manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True).encode()
        manifest_path = rt.archive.put(slug, now.year, manifest_bytes, ".json")
        await repo.add_archive_entry(
            id=archive_id,
            contract_id=contract.id,
            pdf_sha256=digest,
            path=str(pdf_path),
            manifest_path=str(manifest_path),
            customer_name=customer.name,
            customer_enterprise_number=customer.enterprise_number,
            customer_email=customer.email,
            validation_ok=report.ok,
        )
        contract.state = decide(State(contract.state), Event("archived")).state.value
        contract.completed_at = now
        msg = compose(
            tenant,
            kind="completed",
            lang=customer.language,
            to=customer.email,
            token=contract.reply_token,
            context=mail_context(tenant, customer, contract, versions[-1].fields, sha256=digest),
            attachments=[(f"verwerkersovereenkomst-{contract.id}-ondertekend.pdf", pdf)],
        )
        await queue_mail(s, slug, repo, contract, msg, "completed")
        await audit.record(
            s,
            repo.tenant_id,
            "dpabot",
            "contract.archived",
            f"contract:{contract.id}",
            {"archive_id": archive_id, "sha256": digest, "valid": report.ok},
        )
        return archive_id
