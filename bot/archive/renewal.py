"""Archive timestamp renewal: a new document timestamp before the newest one's chain expires."""

from __future__ import annotations

import datetime as dt
import logging
from io import BytesIO
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko_certvalidator import ValidationContext

from bot.archive.certificate import certificate_for
from bot.core.runtime import Runtime
from bot.jobs import cpu
from signing.tsa import FallbackTimeStamper
from storage import audit
from storage.blobs import sha256_hex

log = logging.getLogger(__name__)


def timestamp_chain_expiry(pdf: bytes) -> dt.datetime | None:
    """When the newest document timestamp stops proving anything: the earliest end of validity
    of the certificates its token carries (the TSA's and its issuers'). None: no timestamp.

    Revocation data is not counted: a CRL's nextUpdate says how fresh it is (days), not how
    long the proof it gives about a past time holds; what ends a timestamp's use is the TSA
    chain expiring, after which nobody can check it, so that is what renewal must beat.
    """

    reader = PdfFileReader(BytesIO(pdf), strict=False)
    stamps = reader.embedded_timestamp_signatures
    if not stamps:
        return None
    newest = stamps[-1]
    certs: list[asn1_x509.Certificate] = [newest.signer_cert]
    for choice in newest.signed_data["certificates"] or []:
        if choice.name == "certificate":
            cert = choice.chosen
            # Self-signed roots are trust anchors, renewed out of band, not by timestamps.
            if cert.self_signed == "no":
                certs.append(cert)
    return min(c["tbs_certificate"]["validity"]["not_after"].native for c in certs)


async def renew_pdf(pdf: bytes, trust_roots: list[Any], timestamper: Any) -> bytes:
    """Add the newest timestamp's validation data and a new document timestamp over all."""

    reader = PdfFileReader(BytesIO(pdf), strict=False)
    count = len(reader.embedded_timestamp_signatures)
    # Fetching on: the newest timestamp's revocation data is collected now, while its TSA and
    # CA still answer; later it could not be proven good at the time it was made.
    vc = ValidationContext(
        trust_roots=trust_roots, allow_fetching=True, revocation_mode="hard-fail"
    )
    stamper = PdfTimeStamper(timestamper, field_name=f"ArchiveTimestamp{count + 1}")
    try:
        out = await stamper.async_update_archival_timestamp_chain(reader, vc, in_place=False)
    finally:
        await vc.aclose()
    return bytes(out.getbuffer())


async def renew_tenant(
    rt: Runtime,
    slug: str,
    *,
    now: dt.datetime | None = None,
    margin_days: int | None = None,
    timestamper: Any | None = None,
) -> list[str]:
    """Renew every archived PDF of one tenant whose timestamp chain expires within the margin;
    returns the renewed archive ids. The old file stays: it is what the manifest names."""

    now = now or dt.datetime.now(dt.UTC)
    margin = dt.timedelta(days=margin_days or rt.tenant(slug).retention.renew_margin_days)
    signing = rt.signing[slug]
    # Every TSA of the tenant, in order, as for signing.
    stamper = timestamper or FallbackTimeStamper(signing.tsa_urls, timeout=10)
    async with rt.db.transaction() as s:
        entries = [
            (e.id, e.path) for e in await rt.repo(s, slug).archive_entries() if e.erased_at is None
        ]
    renewed = []
    for entry_id, path in entries:
        pdf = await rt.archive.async_get(path, tenant=slug)
        expiry = timestamp_chain_expiry(pdf)
        if expiry is not None and expiry > now + margin:
            continue

        async def renew(pdf: bytes = pdf) -> bytes:
            return await renew_pdf(pdf, signing.all_roots, stamper)

        new_pdf = await cpu.in_thread_loop(renew)
        new_path = await rt.archive.async_put(slug, now.year, new_pdf, ".pdf")
        async with rt.db.transaction() as s:
            repo = rt.repo(s, slug)
            entry = await repo.archive_entry(entry_id)
            if entry.path != path:  # renewed meanwhile by another worker: keep theirs
                continue
            old_sha = entry.pdf_sha256
            entry.path = new_path
            entry.pdf_sha256 = sha256_hex(new_pdf)
            entry.renewed_at = now
            await audit.record(
                s,
                repo.tenant_id,
                "dpabot",
                "archive.renewed",
                entry.id,
                {
                    "old_sha256": old_sha,
                    "sha256": entry.pdf_sha256,
                    "old_chain_expiry": expiry.isoformat() if expiry else None,
                },
            )
        renewed.append(entry_id)
        log.info("Renewed the archive timestamp of %s (%s).", entry_id, slug)
        try:  # the certificate describes the archived PDF: issued again for the renewed one
            await certificate_for(rt, slug, entry_id)
        except Exception:  # the renewal stands; `dpabot archive certificate` reissues it later
            log.exception("The certificate of completion of %s was not reissued.", entry_id)
    return renewed


async def run(rt: Runtime) -> list[str]:
    """The daily job: every tenant; one tenant's TSA outage does not stop the others."""
    renewed: list[str] = []
    for slug in rt.tenants:
        try:
            renewed += await renew_tenant(rt, slug)
        except Exception:  # one tenant's failure must not stop the others
            log.exception("Archive timestamp renewal failed for %s; retried tomorrow.", slug)
    return renewed
