"""Recheck an archive entry: its files and hashes, the manifest's timestamp token, the PDF's
signatures, and its certificate of completion."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asn1crypto import cms, tsp
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from signing import validate_pdf
from storage.blobs import BlobStore, locator_name, sha256_hex
from storage.errors import BlobError
from storage.models import ArchiveEntry

__all__ = ["EntryCheck", "check_timestamp", "verify_entry"]


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
    if entry.certificate_path:
        await _check_certificate(store, entry, trust_roots, problems)
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


async def _check_certificate(
    store: BlobStore | None, entry: ArchiveEntry, trust_roots: list[Any], problems: list[str]
) -> None:
    """The certificate of completion: the bytes archived, and its seal valid."""
    assert entry.certificate_path is not None
    cert = await _read(store, entry.certificate_path, "certificate", problems)
    if cert is None:
        return
    digest = _named_by_hash(entry.certificate_path, cert, "certificate", problems)
    if digest != entry.certificate_sha256:
        problems.append(f"the certificate's sha256 {digest} differs from the database's")
    report = await validate_pdf(cert, trust_roots)
    if not report.ok:
        problems.append(
            "the certificate's signature does not validate"
            + (f": {report.error}" if report.error else "")
        )


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
