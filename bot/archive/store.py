"""Archive a completed contract: signed PDF, evidence and manifest, content-addressed, and its
certificate of completion. Verification lives in bot.archive.verify (re-exported here)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import zipfile
from pathlib import Path
from typing import Any

import aiohttp
from asn1crypto import tsp

from bot.archive.certificate import Archived, issue_certificate
from bot.archive.verify import EntryCheck, check_timestamp, verify_entry
from bot.core.runtime import Runtime
from bot.domain.workflow import Event, State, decide
from bot.outbox.chat import queue_for_chat
from bot.outbox.queue import customer_mail, queue_mail
from signing import ValidationReport
from signing.tsa import FallbackTimeStamper
from storage import audit
from storage.blobs import BlobStore, sha256_hex
from storage.notify import notify_staff
from templates.chat import notice_text, render_customer

__all__ = [
    "EntryCheck",
    "archive_contract",
    "check_timestamp",
    "export_zip",
    "new_archive_id",
    "timestamp_digest",
    "verify_entry",
]
log = logging.getLogger(__name__)


def new_archive_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%d}-{secrets.token_hex(5)}"


async def archive_contract(
    rt: Runtime,
    slug: str,
    contract_id: int,
    reply_row_id: int,
    pdf: bytes,
    report: ValidationReport,
    signatures: list[dict[str, Any]],
) -> str:
    """Store the B-LTA PDF, the raw acceptance mail and a manifest; complete the contract.

    signatures: the rows of the signatures this PDF received since the final version went out
    (party, signer, cert_sha256, method, evidence); each is recorded against the archived PDF.

    Three steps, so that no network call (TSA, S3) is made while the contract row is locked:
    read what the manifest names; store the files and timestamp the manifest; then, in one
    short transaction, re-check the state and record signature, entry and completion. Nothing
    is in the database before that last commit, so a contract is never archived without its
    timestamp, and a retry after any failure simply starts again (the files are
    content-addressed: storing them again is a no-op)."""
    tenant = rt.tenant(slug)
    now = dt.datetime.now(dt.UTC)
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        contract = await repo.contract(contract_id)
        if contract.state != State.CUSTOMER_SIGNED:
            existing = await repo.archive_entry_for(contract)
            return existing.id if existing else ""
        customer = await repo.customer(contract.customer_id)
        reply = await repo.message(reply_row_id)
        versions = await repo.versions(contract)
        existing_sigs = await repo.signatures(contract)
        version_no = contract.current_version
    digest = sha256_hex(pdf)
    pdf_path = await rt.archive.async_put(slug, now.year, pdf, ".pdf")
    by_chat = reply.channel == "telegram"
    evidence_path = await rt.archive.async_put(
        slug, now.year, reply.raw, ".json" if by_chat else ".eml"
    )
    # One row per party and version (a row already there stays: the insert does nothing).
    have = {(g.version, g.party) for g in existing_sigs}
    new_rows = [
        {"evidence": {}, **row, "version": version_no, "pdf_sha256": digest}
        for row in signatures
        if (version_no, row["party"]) not in have
    ]
    listed = [
        {
            "party": g.party,
            "version": g.version,
            "signer": g.signer,
            "cert_sha256": g.cert_sha256,
            "method": g.method,
            "pdf_sha256": g.pdf_sha256,
            "evidence": g.evidence,
        }
        for g in existing_sigs
    ] + new_rows
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
            "version": version_no,
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
        "signatures": listed,
        "pdf": {"sha256": digest, "path": pdf_path},
        "evidence": [
            {
                "kind": "acceptance_telegram" if by_chat else "acceptance_mail",
                "message_id": reply.message_id,
                "sha256": reply.raw_sha256,
                "path": evidence_path,
            }
        ],
        "validation": report.to_dict(),
        "archived_at": now.isoformat(),
    }
    manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True).encode()
    manifest_path = await rt.archive.async_put(slug, now.year, manifest_bytes, ".json")
    manifest_sha = sha256_hex(manifest_bytes)
    # Proof the manifest (and every hash in it) existed now, independent of the PDF's own
    # timestamps; a TSA outage fails the job, which is retried, never archived without.
    tsr = await timestamp_digest(rt.signing[slug].tsa_urls, manifest_sha)
    tsr_path = await rt.archive.async_put_beside(manifest_path, ".tsr", tsr)
    # A local copy for the customer's chat (the archive may be a remote bucket).
    chat_copy = str(rt.blobs.put(slug, now.year, pdf, ".pdf"))
    archived = Archived(archive_id, now, pdf, manifest_sha, report.to_dict(), tuple(new_rows))
    certificate, certificate_path = await _certificate(rt, slug, contract_id, archived)
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        contract = await repo.contract(contract_id, for_update=True)
        if contract.state != State.CUSTOMER_SIGNED or contract.current_version != version_no:
            # Another run of this job archived it meanwhile: theirs stands (our files are
            # unreferenced copies, harmless in a write-once store).
            existing = await repo.archive_entry_for(contract)
            return existing.id if existing else ""
        for row in new_rows:
            await repo.add_signature(contract_id=contract.id, blob_path=pdf_path, **row)
        await repo.add_archive_entry(
            id=archive_id,
            contract_id=contract.id,
            pdf_sha256=digest,
            path=pdf_path,
            manifest_path=manifest_path,
            customer_name=customer.name,
            customer_enterprise_number=customer.enterprise_number,
            customer_email=customer.email,
            validation_ok=report.ok,
            manifest_sha256=manifest_sha,
            timestamp_path=tsr_path,
            timestamp_sha256=sha256_hex(tsr),
            certificate_path=certificate_path,
            certificate_sha256=sha256_hex(certificate) if certificate else None,
            certificate_pdf_sha256=digest if certificate else None,
        )
        contract.state = decide(State(contract.state), Event("archived")).state.value
        contract.completed_at = now
        msg = customer_mail(
            tenant,
            customer,
            contract,
            "completed",
            versions[-1].fields,
            attachments=[
                (f"verwerkersovereenkomst-{contract.id}-ondertekend.pdf", pdf),
                *([(certificate_name(contract.id), certificate)] if certificate else []),
            ],
            sha256=digest,
        )
        await queue_mail(s, slug, repo, contract, msg, "completed")
        await queue_for_chat(
            repo,
            contract,
            "signed",
            render_customer("signed", customer.language, sha256=digest),
            document_path=chat_copy,
            filename=f"verwerkersovereenkomst-{contract.id}-ondertekend.pdf",
        )
        await audit.record(
            s,
            repo.tenant_id,
            "dpabot",
            "contract.archived",
            f"contract:{contract.id}",
            {"archive_id": archive_id, "sha256": digest, "valid": report.ok},
        )
        params = {
            "ref": f"{slug}-{contract.id}",
            "customer": customer.name,
            "archive_id": archive_id,
        }
        await notify_staff(
            s,
            repo.tenant_id,
            "completed",
            notice_text("completed", params),
            f"contract:{contract.id}",
            params=params,
        )
        return archive_id


def certificate_name(contract_id: int) -> str:
    """The certificate of completion's file name in mails and chats."""
    return f"verwerkersovereenkomst-{contract_id}-certificaat.pdf"


async def _certificate(
    rt: Runtime, slug: str, contract_id: int, archived: Archived
) -> tuple[bytes | None, str | None]:
    """The certificate, sealed and archived beside the contract; (None, None) if it fails.

    The contract is archived all the same: its evidence is complete without the certificate,
    which ``dpabot archive certificate`` issues later from the archive."""
    try:
        cert = await issue_certificate(rt, slug, contract_id, archived)
        return cert, await rt.archive.async_put(slug, archived.archived_at.year, cert, ".pdf")
    except Exception:  # any failure (TSA, render) must not stop the archive; logged for staff
        log.exception(
            "The certificate of completion of contract %s-%s could not be issued; "
            "`dpabot archive certificate %s` issues it later.",
            slug,
            contract_id,
            archived.archive_id,
        )
        return None, None


async def timestamp_digest(tsa_urls: str | list[str], sha256_hexdigest: str) -> bytes:
    """An RFC 3161 TimeStampResp (DER, what `openssl ts -reply` writes) over one SHA-256.

    The tenant's TSAs are tried in order (signing.tsa); when all fail, TimestampError fails
    the job, which is retried: never archived without a real timestamp."""

    async with aiohttp.ClientSession() as http:
        stamper = FallbackTimeStamper(tsa_urls, timeout=10, session=http)
        token = await stamper.async_timestamp(bytes.fromhex(sha256_hexdigest), "sha256")
    return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


async def export_zip(store: BlobStore, tenant: str, output: Path) -> int:
    """Zip every archived file of one tenant plus SHA256SUMS; returns the number of files.

    Only that tenant's blobs are listed, and each is read with the tenant named, so the
    store refuses anything of another tenant's."""
    lines = []
    count = 0
    tmp = output.with_name(f".{output.name}.tmp")
    zf = await asyncio.to_thread(zipfile.ZipFile, tmp, "w", compression=zipfile.ZIP_DEFLATED)
    try:
        async for name, locator in store.async_walk(tenant):
            data = await store.async_get(locator, tenant=tenant)
            await asyncio.to_thread(zf.writestr, name, data)
            lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
            count += 1
        await asyncio.to_thread(zf.writestr, "SHA256SUMS", "".join(lines))
        await asyncio.to_thread(zf.close)
    except BaseException:
        # No half zip is left behind under any name.
        await asyncio.to_thread(zf.close)
        await asyncio.to_thread(os.unlink, tmp)
        raise
    await asyncio.to_thread(os.replace, tmp, output)
    return count
