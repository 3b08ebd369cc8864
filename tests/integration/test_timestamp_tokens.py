"""Every RFC 3161 token in an archived contract, checked by openssl alone: the two signature
timestamps (over each signature value) and the document timestamp (over its byte range);
the same PDF also passes qpdf --check and pdfsig."""

from __future__ import annotations

import re
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import cms, parser, pem
from certomancer.registry import CertLabel
from pyhanko.pdf_utils.reader import PdfFileReader

from bot.core.runtime import Runtime
from signing import FIELD_ARCHIVE_TIMESTAMP, FIELD_CUSTOMER, FIELD_PROCESSOR
from tests.fixtures.pki import nss_db, pdfsig_signatures, qpdf_check
from tests.fixtures.runtime import make_tenant
from tests.integration.test_archive_verify import archive_one, open_for_module


@dataclass
class Archived:
    pdf: Path
    root: Path  # the dev root: the only certificate openssl trusts
    tsa_chain: Path  # the TSA certificate, offered as untrusted


@pytest.fixture(scope="module")
async def archived(database_url, tmp_path_factory) -> AsyncIterator[Archived]:
    """One contract taken through the mail flow to its archived two-party B-LTA PDF."""
    tenant = make_tenant(transport="maildir")
    tmp = tmp_path_factory.mktemp("tst")
    rt: Runtime
    async for rt in open_for_module(tmp / "var", database_url, [tenant]):
        entry = await archive_one(rt, tenant.slug, "MOOI Schoonheidsverzorging", "k@mooi.example")
        assert rt.pki is not None
        tsa_chain = tmp / "tsa-chain.pem"
        tsa_chain.write_bytes(
            pem.armor("CERTIFICATE", rt.pki.arch.get_cert(CertLabel("tsa")).dump())
        )
        # The PKI keeps serving while the tests run: pdfsig asks its OCSP responders.
        yield Archived(Path(entry.path), rt.pki.root_cert_path, tsa_chain)


@dataclass
class Token:
    field: str
    der: bytes  # a TimeStampToken (CMS ContentInfo), exactly as embedded
    data: bytes  # what its message imprint must be the hash of
    to_eof: bool  # its signature dictionary's byte range runs to the end of the file


def _byte_range(raw: bytes, sig_range: list[int]) -> tuple[bytes, bytes]:
    """(signed bytes, the /Contents hex string between them) of one signature dictionary."""
    a, b, c, d = sig_range
    assert a == 0 and c + d <= len(raw), sig_range
    gap = raw[a + b : c]
    assert gap.startswith(b"<") and gap.endswith(b">"), gap[:16]
    return raw[a : a + b] + raw[c : c + d], gap


def _der_prefix(padded: bytes) -> bytes:
    """The DER object at the start of /Contents, without its zero padding."""
    _, _, _, header, contents, _ = parser.parse(padded, strict=False)
    return header + contents


def _tokens(raw: bytes) -> list[Token]:
    """All tokens, read from the file's bytes; pyHanko only lists the signature dictionaries."""
    tokens = []
    for sig in PdfFileReader(BytesIO(raw)).embedded_signatures:
        sig_range = [int(x) for x in sig.sig_object["/ByteRange"]]
        signed, gap = _byte_range(raw, sig_range)
        to_eof = sig_range[2] + sig_range[3] == len(raw)
        der = _der_prefix(bytes.fromhex(re.sub(rb"\s", b"", gap[1:-1]).decode()))
        if sig.sig_object.get("/Type") == "/DocTimeStamp":
            # The document timestamp's /Contents is the token itself, over the byte range.
            tokens.append(Token(sig.field_name, der, signed, to_eof))
            continue
        signer_info = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
        stamps = [
            attr["values"][0]
            for attr in signer_info["unsigned_attrs"]
            if attr["type"].native == "signature_time_stamp_token"
        ]
        assert len(stamps) == 1, f"{sig.field_name}: {len(stamps)} signature timestamps"
        # RFC 3161 / PAdES: a signature timestamp covers the signature value's octets.
        signature = signer_info["signature"].native
        tokens.append(Token(sig.field_name, stamps[0].dump(), signature, to_eof))
    return tokens


def _openssl_verify(token: Token, archived: Archived, folder: Path, *, data: bytes) -> str:
    tsr = folder / f"{token.field}.tst"
    tsr.write_bytes(token.der)
    payload = folder / f"{token.field}.data"
    payload.write_bytes(data)
    cmd = ["openssl", "ts", "-verify", "-token_in", "-in", str(tsr), "-data", str(payload)]
    cmd += ["-CAfile", str(archived.root), "-untrusted", str(archived.tsa_chain)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return proc.stdout + proc.stderr


def test_three_tokens_each_verified_by_openssl(archived: Archived, tmp_path: Path) -> None:
    tokens = _tokens(archived.pdf.read_bytes())
    assert [t.field for t in tokens] == [FIELD_PROCESSOR, FIELD_CUSTOMER, FIELD_ARCHIVE_TIMESTAMP]
    # The document timestamp is the last thing written: it covers the whole file.
    assert [t.to_eof for t in tokens] == [False, False, True]
    for token in tokens:
        out = _openssl_verify(token, archived, tmp_path, data=token.data)
        assert "Verification: OK" in out, (token.field, out)
        # The check means something: one flipped bit in the covered bytes fails it.
        flipped = bytearray(token.data)
        flipped[len(flipped) // 2] ^= 0x01
        out = _openssl_verify(token, archived, tmp_path, data=bytes(flipped))
        assert "Verification: OK" not in out, (token.field, out)


def test_qpdf_and_pdfsig_accept_the_archived_pdf(archived: Archived, tmp_path: Path) -> None:
    qpdf_check(archived.pdf)
    (tmp_path / "nss").mkdir()
    nssdir = nss_db(archived.root, tmp_path / "nss")
    sigs = pdfsig_signatures(archived.pdf, nssdir)
    assert [s["Signature Field Name"] for s in sigs] == [
        FIELD_PROCESSOR,
        FIELD_CUSTOMER,
        FIELD_ARCHIVE_TIMESTAMP,
    ]
    for sig in sigs[:2]:
        assert sig["Signature Validation"] == "Signature is Valid.", sig
        assert sig["Certificate Validation"] == "Certificate is Trusted.", sig
