"""Archived contracts: manifest timestamp (openssl agrees), `verify` catches every byte flip,
renewal adds a timestamp, and a simulated validation passes 5 and 10 years ahead."""

from __future__ import annotations

import datetime as dt
import mailbox
import os
import subprocess
from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.ades import simulate_future_ades_lta_validation
from sqlalchemy import select

from bot import contracts
from bot.app.demo import DEMO_ANSWERS, customer_reply
from bot.app.runtime import open_runtime
from bot.archive import renewal
from bot.archive.store import verify_entry
from bot.core.runtime import Runtime
from bot.core.settings import ServiceSettings, TenantSettings
from bot.jobs import run_jobs_until_idle
from bot.mail.listener import poll_once
from signing import validate_pdf
from signing.validate import _lta_spec
from storage.models import ArchiveEntry, AuditEvent
from tests.fixtures.runtime import make_tenant, scoped
from tests.integration.test_bad_input import _outbox


async def archive_one(rt: Runtime, slug: str, name: str, email: str) -> ArchiveEntry:
    """Invite, answer, accept by mail: the contract ends archived; its entry."""
    cid = await contracts.add_customer(
        rt,
        slug,
        name=name,
        enterprise_number="BE0840.465.705",
        representative="Karolien Piskor",
        email=email,
    )
    contract_id = await contracts.invite(rt, slug, cid)
    await run_jobs_until_idle(rt)
    inbox = mailbox.Maildir(rt.maildir(slug, "inbox"), create=True)
    (invitation,) = [
        m
        for m in _outbox(rt, slug)
        if m["To"] and email in m["To"] and m["X-Dpabot-Kind"] == "invitation"
    ]
    inbox.add(customer_reply(invitation, DEMO_ANSWERS, email))
    await poll_once(rt, slug)
    await run_jobs_until_idle(rt)
    (final,) = [
        m
        for m in _outbox(rt, slug)
        if m["To"] and email in m["To"] and m["X-Dpabot-Kind"] == "final"
    ]
    inbox.add(customer_reply(final, "Ik ga akkoord.", email))
    await poll_once(rt, slug)
    await run_jobs_until_idle(rt)
    async with scoped(rt) as s:
        entry = await s.scalar(select(ArchiveEntry).where(ArchiveEntry.contract_id == contract_id))
    assert entry is not None
    return entry


async def open_for_module(
    data_dir: Path, database_url: str, tenants: list[TenantSettings]
) -> AsyncIterator[Runtime]:
    """A runtime for a whole module (archiving takes seconds; do it once)."""
    cm = open_runtime(ServiceSettings(data_dir=data_dir, database_url=database_url), tenants)
    rt = await cm.__aenter__()
    try:
        yield rt
    finally:
        await cm.__aexit__(None, None, None)


@pytest.fixture(scope="module")
async def archived(database_url, tmp_path_factory) -> AsyncIterator[tuple[Runtime, str, str]]:
    tenant = make_tenant(transport="maildir")
    async for rt in open_for_module(tmp_path_factory.mktemp("arch"), database_url, [tenant]):
        entry = await archive_one(rt, tenant.slug, "MOOI Schoonheidsverzorging", "k@mooi.example")
        yield rt, tenant.slug, entry.id


async def _entry(rt: Runtime, entry_id: str) -> ArchiveEntry:
    async with scoped(rt) as s:
        entry = await s.get(ArchiveEntry, entry_id, populate_existing=True)
    assert entry is not None
    return entry


async def test_manifest_timestamp_is_beside_it_and_openssl_verifies_it(archived):
    rt, _, entry_id = archived
    entry = await _entry(rt, entry_id)
    manifest = Path(entry.manifest_path)
    tsr = Path(entry.timestamp_path or "")
    assert tsr == manifest.with_suffix(".tsr") and tsr.is_file()
    assert entry.manifest_sha256 == manifest.stem
    root = rt.signing[next(iter(rt.tenants))].trust_root_paths[0]
    ok = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-digest",
            entry.manifest_sha256,
            "-in",
            str(tsr),
            "-CAfile",
            str(root),
        ],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and "Verification: OK" in ok.stdout, ok.stdout + ok.stderr
    other = "00" * 32
    bad = subprocess.run(
        ["openssl", "ts", "-verify", "-digest", other, "-in", str(tsr), "-CAfile", str(root)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0


async def test_verify_passes_then_every_byte_flip_is_reported(archived):
    rt, slug, entry_id = archived
    roots = rt.signing[slug].trust_roots
    entry = await _entry(rt, entry_id)
    assert (await verify_entry(entry, roots)).ok, (await verify_entry(entry, roots)).problems
    for path in (Path(entry.path), Path(entry.manifest_path)):
        size = path.stat().st_size
        for offset in (0, 17, size // 3, size // 2, size - 2):
            original = path.read_bytes()
            os.chmod(path, 0o644)  # archive files are read-only: a tamperer would chmod too
            try:
                flipped = bytearray(original)
                flipped[offset] ^= 0x01
                path.write_bytes(bytes(flipped))
                check = await verify_entry(entry, roots)
                assert not check.ok, f"flip at {offset} of {path.name} went unnoticed"
                assert any(path.name in p or "sha256" in p for p in check.problems)
            finally:
                path.write_bytes(original)
                os.chmod(path, 0o444)
    assert (await verify_entry(entry, roots)).ok


def _future_status(pdf: bytes, roots, years: int) -> list[str]:
    import asyncio

    async def run() -> list[str]:
        reader = PdfFileReader(BytesIO(pdf))
        when = dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * years + years // 4 + 1)
        out = []
        for sig in reader.embedded_regular_signatures:
            result = await simulate_future_ades_lta_validation(sig, _lta_spec(roots), when)
            out.append(result.ades_subindic.status.name)
        return out

    return asyncio.run(run())


async def test_renewal_adds_a_timestamp_and_keeps_the_old_file(archived):
    rt, slug, entry_id = archived
    roots = rt.signing[slug].trust_roots
    before = await _entry(rt, entry_id)
    old_pdf = Path(before.path).read_bytes()
    # Nothing is due with the default margin: the dev TSA's certificate lasts until 2040.
    assert await renewal.renew_tenant(rt, slug) == []
    expiry = renewal.timestamp_chain_expiry(old_pdf)
    assert expiry is not None and expiry.year == 2040
    # A margin reaching past that expiry makes it due now.
    margin = (expiry - dt.datetime.now(dt.UTC)).days + 30
    assert await renewal.renew_tenant(rt, slug, margin_days=margin) == [entry_id]
    after = await _entry(rt, entry_id)
    assert after.path != before.path and Path(before.path).is_file()
    assert after.renewed_at is not None
    new_pdf = Path(after.path).read_bytes()
    assert new_pdf.startswith(old_pdf)
    stamps = PdfFileReader(BytesIO(new_pdf)).embedded_timestamp_signatures
    assert len(stamps) == 2
    assert (await validate_pdf(new_pdf, roots)).ok
    assert (await verify_entry(after, roots)).ok, (await verify_entry(after, roots)).problems
    # The certificate of completion is issued again, for the renewed PDF, naming the renewal.
    assert before.certificate_path and after.certificate_path != before.certificate_path
    assert after.certificate_pdf_sha256 == after.pdf_sha256 != before.certificate_pdf_sha256
    text = subprocess.run(
        ["pdftotext", "-raw", str(after.certificate_path), "-"], capture_output=True, text=True
    ).stdout
    assert "Archieftijdstempel vernieuwd" in " ".join(text.split())
    async with scoped(rt) as s:
        actions = (
            await s.scalars(
                select(AuditEvent.action).where(AuditEvent.tenant_id == rt.tenant_ids[slug])
            )
        ).all()
    assert "archive.renewed" in actions


async def test_future_validation_passes_5_and_10_years_ahead(archived):
    """Assuming timestamps are renewed in time, the DSS alone proves both signatures later:
    it needs revocation data pyHanko's past validation can use (OCSP for the one-time customer
    certificate; no sibling CA's CRL beside the root's)."""
    import asyncio

    rt, slug, entry_id = archived
    roots = rt.signing[slug].trust_roots
    entry = await _entry(rt, entry_id)
    pdf = Path(entry.path).read_bytes()
    for years in (5, 10):
        statuses = await asyncio.to_thread(_future_status, pdf, roots, years)
        assert statuses == ["PASSED", "PASSED"], (years, statuses)
