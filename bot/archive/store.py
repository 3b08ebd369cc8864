"""Archive a completed contract: signed PDF, evidence and manifest, content-addressed."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import secrets
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from asn1crypto import cms, tsp
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from bot.core.runtime import Runtime
from bot.domain.workflow import Event, State, decide
from bot.outbox.chat import queue_for_chat
from bot.outbox.queue import customer_mail, queue_mail
from signing import ValidationReport, validate_pdf
from signing.tsa import FallbackTimeStamper
from storage import audit
from storage.blobs import BlobStore, locator_name, sha256_hex
from storage.errors import BlobError
from storage.models import ArchiveEntry
from storage.notify import notify_staff
from templates.chat import notice_text, render_customer


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
        )
        contract.state = decide(State(contract.state), Event("archived")).state.value
        contract.completed_at = now
        msg = customer_mail(
            tenant,
            customer,
            contract,
            "completed",
            versions[-1].fields,
            attachments=[(f"verwerkersovereenkomst-{contract.id}-ondertekend.pdf", pdf)],
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


async def timestamp_digest(tsa_urls: str | list[str], sha256_hexdigest: str) -> bytes:
    """An RFC 3161 TimeStampResp (DER, what `openssl ts -reply` writes) over one SHA-256.

    The tenant's TSAs are tried in order (signing.tsa); when all fail, TimestampError fails
    the job, which is retried: never archived without a real timestamp."""

    async with aiohttp.ClientSession() as http:
        stamper = FallbackTimeStamper(tsa_urls, timeout=10, session=http)
        token = await stamper.async_timestamp(bytes.fromhex(sha256_hexdigest), "sha256")
    return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


async def check_timestamp(tsr: bytes, sha256_hexdigest: str, trust_roots: list[Any]) -> str | None:
    """None when the token is over this digest and signed by a TSA chaining to a root."""

    try:
        resp = tsp.TimeStampResp.load(tsr)
        token: cms.ContentInfo = resp["time_stamp_token"]
        signed = token["content"]
        info = signed["encap_content_info"]["content"].parsed
        imprint = info["message_imprint"]["hashed_message"].native
    except Exception as exc:  # any parse failure is a broken token
        return f"the timestamp token cannot be read ({type(exc).__name__})"
    if imprint != bytes.fromhex(sha256_hexdigest):
        return "the timestamp token is over another digest than the manifest's"
    # Offline, like the rest of verification: the TSA chain is checked against the roots; its
    # revocation status is soft-fail because the archive must verify without the network.
    vc = ValidationContext(
        trust_roots=trust_roots, allow_fetching=False, revocation_mode="soft-fail"
    )
    try:
        kwargs = await validate_tst_signed_data(signed, vc, lambda _algo: imprint)
        status = TimestampSignatureStatus(**kwargs)
    except Exception as exc:  # asn1crypto/pyHanko raise many types on a bad token
        return f"the timestamp token does not verify ({type(exc).__name__}: {exc})"
    finally:
        await vc.aclose()
    if not (status.intact and status.valid):
        return "the timestamp token's signature does not verify"
    if not status.trusted:
        return "the timestamp token's TSA does not chain to a trust root"
    return None


@dataclass
class EntryCheck:
    """Result of `archive verify` for one entry: ok when no problem was found."""

    id: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ok": self.ok, "problems": self.problems}


async def _read(
    store: BlobStore | None, locator: str, what: str, problems: list[str]
) -> bytes | None:
    try:
        if store is None:  # file locators are absolute paths: readable without their store
            return await asyncio.to_thread(Path(locator).read_bytes)
        return await store.async_get(locator)
    except (OSError, BlobError) as exc:
        problems.append(
            f"the {what} {locator} cannot be read ({getattr(exc, 'strerror', None) or exc})"
        )
        return None


def _named_by_hash(locator: str, data: bytes, what: str, problems: list[str]) -> str:
    digest = sha256_hex(data)
    if locator_name(locator).split(".")[0] != digest:
        problems.append(f"the {what} {locator} does not match its name (sha256 {digest})")
    return digest


async def verify_entry(
    entry: ArchiveEntry, trust_roots: list[Any], store: BlobStore | None = None
) -> EntryCheck:
    """Recheck one archive entry's files, hashes, manifest timestamp and PDF signatures.

    store: the archive the entry's locators point into (rt.archive); without it they are
    read as local file paths (the file store's locators)."""

    check = EntryCheck(entry.id)
    problems = check.problems
    if entry.erased_at is not None:
        problems.append("the entry was erased after its retention period")
        return check
    pdf = await _read(store, entry.path, "PDF", problems)
    if pdf is not None:
        digest = _named_by_hash(entry.path, pdf, "PDF", problems)
        if digest != entry.pdf_sha256:
            problems.append(f"the PDF's sha256 {digest} differs from the database's")
    manifest_bytes = await _read(store, entry.manifest_path, "manifest", problems)
    manifest: dict[str, Any] = {}
    if manifest_bytes is not None:
        m_digest = _named_by_hash(entry.manifest_path, manifest_bytes, "manifest", problems)
        if entry.manifest_sha256 and m_digest != entry.manifest_sha256:
            problems.append(f"the manifest's sha256 {m_digest} differs from the database's")
        try:
            manifest = json.loads(manifest_bytes)
        except ValueError:
            problems.append("the manifest is not valid JSON")
        if entry.timestamp_path:
            tsr = await _read(store, entry.timestamp_path, "timestamp token", problems)
            if tsr is not None:
                if sha256_hex(tsr) != entry.timestamp_sha256:
                    problems.append("the timestamp token differs from the one archived")
                # The database's hash is the one proven: a changed manifest must not match.
                expected = entry.manifest_sha256 or m_digest
                if (err := await check_timestamp(tsr, expected, trust_roots)) is not None:
                    problems.append(err)
        else:
            problems.append("the manifest has no timestamp token")
    if manifest:
        await _check_manifest_files(store, manifest, pdf, problems)
    if pdf is not None:
        report = await validate_pdf(pdf, trust_roots)
        if not report.ok:
            bad = [s.field for s in report.signatures if not s.ok]
            problems.append(
                "the PDF's signatures do not validate"
                + (f" ({', '.join(bad)})" if bad else "")
                + (f": {report.error}" if report.error else "")
            )
    return check


async def _check_manifest_files(
    store: BlobStore | None, manifest: dict[str, Any], pdf: bytes | None, problems: list[str]
) -> None:
    listed = manifest.get("pdf", {})
    original = await _read(store, listed.get("path", ""), "archived original PDF", problems)
    if original is not None and sha256_hex(original) != listed.get("sha256"):
        problems.append("the original PDF does not match the manifest's sha256")
    # A renewed PDF is the original plus an incremental update: the original is its prefix.
    if original is not None and pdf is not None and not pdf.startswith(original):
        problems.append("the PDF is not the manifest's PDF or an incremental renewal of it")
    for ev in manifest.get("evidence", []):
        data = await _read(store, ev.get("path", ""), "evidence", problems)
        if data is not None and sha256_hex(data) != ev.get("sha256"):
            problems.append(f"the evidence {ev.get('path')} does not match the manifest's sha256")


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
