"""Issue 17's evidence, on one contract taken through the mail flow to the archive: both
signatures visible on the signature page (read back by pdftotext), the certificate of
completion (content, events in order, sealed to B-LTA, archived, verified, mailed), and the
independent checks (pdfsig, qpdf, openssl ts) on the contract and on the certificate."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pikepdf
import pytest
from asn1crypto import pem
from certomancer.registry import CertLabel
from sqlalchemy import select

from bot.archive.verify import verify_entry
from bot.core.runtime import Runtime
from bot.domain.fingerprint import message_ref
from signing import validate_pdf
from signing.facts import signature_facts
from storage.models import ArchiveEntry, Message, Signature
from tests.fixtures.pki import nss_db, pdfsig_by_field, qpdf_check
from tests.fixtures.runtime import make_tenant, scoped
from tests.integration.test_archive_verify import archive_one, open_for_module
from tests.integration.test_bad_input import _outbox
from tests.integration.test_timestamp_tokens import Archived as TokenFiles
from tests.integration.test_timestamp_tokens import _openssl_verify, _tokens

BRUSSELS = ZoneInfo("Europe/Brussels")


@dataclass
class World:
    rt: Runtime
    slug: str
    entry: ArchiveEntry
    contract: Path
    certificate: Path
    accepted_message_id: str
    completed: EmailMessage
    nssdir: Path
    tokens: TokenFiles


@pytest.fixture(scope="module")
async def world(database_url, tmp_path_factory) -> AsyncIterator[World]:
    tenant = make_tenant(transport="maildir")
    tmp = tmp_path_factory.mktemp("evidence")
    async for rt in open_for_module(tmp / "var", database_url, [tenant]):
        entry = await archive_one(rt, tenant.slug, "MOOI Schoonheidsverzorging", "k@mooi.example")
        async with scoped(rt) as s:
            entry = await s.get(ArchiveEntry, entry.id, populate_existing=True)
            customer_sig = await s.scalar(
                select(Signature).where(
                    Signature.contract_id == entry.contract_id, Signature.party == "customer"
                )
            )
            assert customer_sig is not None
            accepted = customer_sig.evidence["message_id"]
            # The reply really is one stored for this contract.
            assert await s.scalar(select(Message.id).where(Message.message_id == accepted))
        assert entry.certificate_path, "the certificate was not issued when archiving"
        (completed,) = [m for m in _outbox(rt, tenant.slug) if m["X-Dpabot-Kind"] == "completed"]
        assert rt.pki is not None
        tsa_chain = tmp / "tsa-chain.pem"
        tsa_chain.write_bytes(
            pem.armor("CERTIFICATE", rt.pki.arch.get_cert(CertLabel("tsa")).dump())
        )
        (tmp / "nss").mkdir()
        nssdir = nss_db(rt.pki.root_cert_path, tmp / "nss")
        yield World(
            rt,
            tenant.slug,
            entry,
            Path(entry.path),
            Path(entry.certificate_path),
            accepted,
            completed,
            nssdir,
            TokenFiles(Path(entry.path), rt.pki.root_cert_path, tsa_chain),
        )


def _text(pdf: Path, *args: str) -> str:
    out = subprocess.run(["pdftotext", *args, str(pdf), "-"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _signature_page(pdf: Path) -> int:
    with pikepdf.open(pdf) as doc:
        for i, page in enumerate(doc.pages, 1):
            if any(str(a.get("/T", "")) == "Customer" for a in page.obj.get("/Annots", [])):
                return i
    raise AssertionError("no signature page")


def _when(at: dt.datetime) -> tuple[str, str, str]:
    local = at.astimezone(BRUSSELS)
    return f"{local:%d/%m/%Y}", f"{local:%H:%M:%S}", f"{at.astimezone(dt.UTC):%H:%M:%S}"


def test_both_stamps_are_on_the_signature_page_and_readable(world: World) -> None:
    page = _signature_page(world.contract)
    text = " ".join(_text(world.contract, "-raw", "-f", str(page), "-l", str(page)).split())
    facts = {f.field: f for f in signature_facts(world.contract.read_bytes())}
    tenant = world.rt.tenant(world.slug)
    # Who, their function and firm, the place and the signing time signed into each signature.
    expected = {
        "Processor": [
            "Michel Smekens",
            f"Zaakvoerder, {tenant.name}",
            f"digitaal ondertekend met de sleutel van {tenant.name}",
        ],
        "Customer": [
            "Karolien Piskor",
            "MOOI Schoonheidsverzorging",
            f"aanvaard per e-mail, antwoord {message_ref(world.accepted_message_id)}",
        ],
    }
    for field, words in expected.items():
        signed_at = facts[field].signing_time
        assert signed_at is not None
        date, local, utc = _when(signed_at)
        words = [*words, f"{date}", f"{local} (Brussel) – {utc} UTC"]
        for w in words:
            assert w in text, (field, w, text)
    assert f"Antwerpen, {_when(facts['Processor'].signing_time)[0]}" in text  # type: ignore[arg-type]
    # No dotted place/date lines left to fill by hand.
    assert "Locatie:" not in text and "Datum:" not in text


def test_pdfsig_and_qpdf_accept_the_contract_and_the_certificate(world: World) -> None:
    for path in (world.contract, world.certificate):
        qpdf_check(path)
    contract = pdfsig_by_field(world.contract, world.nssdir)
    for field in ("Processor", "Customer"):
        assert contract[field]["Signature Validation"] == "Signature is Valid.", contract
        assert contract[field]["Certificate Validation"] == "Certificate is Trusted.", contract
    cert = pdfsig_by_field(world.certificate, world.nssdir)
    assert cert["Seal"]["Signature Validation"] == "Signature is Valid.", cert
    assert cert["Seal"]["Certificate Validation"] == "Certificate is Trusted.", cert
    assert "processor signing" in cert["Seal"]["Signer Certificate Common Name"]


def test_both_documents_stay_pdfa_with_every_font_embedded(world: World) -> None:
    for path in (world.contract, world.certificate):
        with pikepdf.open(path) as doc:
            meta = doc.open_metadata()
            assert meta.get("pdfaid:part") == "2" and meta.get("pdfaid:conformance") == "B"
            intents = doc.Root.OutputIntents
            assert intents[0].S == pikepdf.Name.GTS_PDFA1 and "/DestOutputProfile" in intents[0]
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
        rows = fonts.splitlines()[2:]
        assert rows, fonts
        # The stamps' font too (pyHanko's subset of Carlito): "emb" is the fourth column from
        # the right in pdffonts' table (emb sub uni object ID).
        assert all(r.split()[-5] == "yes" for r in rows), fonts
    assert (
        "Identity-H"
        in subprocess.run(["pdffonts", str(world.contract)], capture_output=True, text=True).stdout
    )


def test_openssl_verifies_every_token_of_the_certificate(world: World, tmp_path: Path) -> None:
    files = TokenFiles(world.certificate, world.tokens.root, world.tokens.tsa_chain)
    tokens = _tokens(world.certificate.read_bytes())
    assert [t.field for t in tokens] == ["Seal", "ArchiveTimestamp"]
    for token in tokens:
        out = _openssl_verify(token, files, tmp_path, data=token.data)
        assert "Verification: OK" in out, (token.field, out)
    # and the contract's own three
    for token in _tokens(world.contract.read_bytes()):
        out = _openssl_verify(token, world.tokens, tmp_path, data=token.data)
        assert "Verification: OK" in out, (token.field, out)


async def test_certificate_lists_document_parties_events_signatures_and_verdict(
    world: World,
) -> None:
    cert = world.certificate.read_bytes()
    report = await validate_pdf(cert, world.rt.signing[world.slug].all_roots)
    assert report.ok and report.document_timestamps, report.to_dict()
    text = " ".join(_text(world.certificate, "-raw").split())
    contract_pdf = world.contract.read_bytes()
    async with scoped(world.rt) as s:
        entry = await s.get(ArchiveEntry, world.entry.id)
        assert entry is not None
    assert "Certificaat van voltooiing" in text
    assert entry.pdf_sha256 in text and entry.manifest_sha256 in text  # type: ignore[operator]
    facts = signature_facts(contract_pdf)
    assert [f.kind for f in facts] == ["signature", "signature", "document_timestamp"]
    for f in facts:
        assert f.serial in text and f.tsa.split(",")[0] in text, f
        if f.kind == "signature":  # each signer's certificate: subject, issuer, serial
            assert f.name in text and f.issuer.split(",")[0] in text, f
    assert "dpabot DEV TSA" in text
    assert "MOOI Schoonheidsverzorging" in text and "BE0840.465.705" in text
    # Events in the order the contract lived them.
    ref = message_ref(world.accepted_message_id)
    steps = [
        "Versie 1 opgesteld",
        "Uitnodiging verstuurd aan k@mooi.example",
        "Versie 2 opgesteld",
        "Definitieve versie 2 verstuurd",
        f"Aanvaarding van versie 2: aanvaard per e-mail, antwoord {ref}",
        "Ondertekend door Karolien Piskor (Customer)",
        f"Gearchiveerd als {world.entry.id}",
        "Alle handtekeningen en tijdstempels zijn geldig",
    ]
    positions = [text.find(step) for step in steps]
    assert all(p >= 0 for p in positions), list(zip(steps, positions, strict=True))
    assert positions == sorted(positions), list(zip(steps, positions, strict=True))
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d \d\d:\d\d:\d\d Versie 1 opgesteld", text)


async def test_certificate_is_archived_under_its_hash_and_verified(
    world: World, tmp_path: Path
) -> None:
    roots = world.rt.signing[world.slug].all_roots
    async with scoped(world.rt) as s:
        entry = await s.get(ArchiveEntry, world.entry.id, populate_existing=True)
        assert entry is not None
        s.expunge(entry)
    assert world.certificate.stem == entry.certificate_sha256
    assert entry.certificate_pdf_sha256 == entry.pdf_sha256
    assert world.certificate.parent == world.contract.parent  # beside the contract
    assert (await verify_entry(entry, roots)).ok
    changed = bytearray(world.certificate.read_bytes())
    changed[len(changed) // 3] ^= 0x01
    copy = tmp_path / world.certificate.name
    copy.write_bytes(bytes(changed))
    entry.certificate_path = str(copy)
    check = await verify_entry(entry, roots)
    assert any("certificate" in p for p in check.problems), check.problems


def test_completion_mail_carries_the_contract_and_the_certificate(world: World) -> None:
    parts = [p for p in world.completed.iter_attachments()]
    assert [p.get_content_type() for p in parts] == ["application/pdf", "application/pdf"]
    contract, cert = (p.get_content() for p in parts)
    assert contract == world.contract.read_bytes()
    assert cert == world.certificate.read_bytes()
    assert parts[1].get_filename().endswith("-certificaat.pdf")
