"""Two-party PAdES flow against the served DEV PKI, checked by pyHanko, pdfsig and qpdf."""

from __future__ import annotations

import datetime as dt
import re
import socket
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
import typst
from asn1crypto import pem, x509

from signing import (
    FIELD_ARCHIVE_TIMESTAMP,
    FIELD_CUSTOMER,
    FIELD_PROCESSOR,
    DevPKI,
    TimestampError,
    add_signature_fields,
    certify_processor,
    make_lta,
    sign_customer,
    validate_pdf,
)
from tests.fixtures.pki import TENANT, pdfsig_signatures, pdfsig_verdicts, qpdf_check

_DOC = """
#set document(title: "Verwerkersovereenkomst", author: "iBeauty BVBA")
#set page(paper: "a4")
= Verwerkersovereenkomst
Tussen iBeauty BVBA (verwerker) en MOOI Schoonheidsverzorging (verwerkingsverantwoordelijke).
"""


@dataclass
class Flow:
    unsigned: bytes
    certified: bytes
    customer_signed: bytes
    lta: bytes
    customer_cert: x509.Certificate


@pytest.fixture(scope="module")
def pdfa(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    src = tmp_path_factory.mktemp("doc") / "dpa.typ"
    src.write_text(_DOC)
    return typst.compile(str(src), format="pdf", pdf_standards=["a-2b"])


@pytest.fixture(scope="module")
async def flow(dev_pki: DevPKI, pdfa: bytes) -> Flow:
    unsigned = add_signature_fields(pdfa)
    certified = await certify_processor(
        unsigned,
        dev_pki.processor_signer(TENANT),
        dev_pki.tsa_url,
        reason="Verwerkersovereenkomst v1",
        location="Antwerpen",
    )
    signer = dev_pki.customer_ca(TENANT).issue_one_time(
        "Karolien Piskor", "MOOI Schoonheidsverzorging", "karolien@mooi.example"
    )
    customer_signed = await sign_customer(
        certified,
        signer,
        dev_pki.tsa_url,
        reason="Akkoord per e-mail <abc@mooi.example>, sha256 00ff",
    )
    lta = await make_lta(customer_signed, [dev_pki.root_cert], dev_pki.tsa_url)
    return Flow(unsigned, certified, customer_signed, lta, signer.signing_cert)


def _write(tmp_path: Path, data: bytes, name: str = "signed.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


async def test_lta_validates_offline(flow: Flow, dev_pki: DevPKI) -> None:
    report = await validate_pdf(flow.lta, [dev_pki.root_cert])
    assert report.ok, report.to_dict()
    by_field = {s.field: s for s in report.signatures}
    assert set(by_field) == {FIELD_PROCESSOR, FIELD_CUSTOMER}
    for sig in report.signatures:
        assert sig.intact and sig.valid and sig.trusted
        assert sig.ades_status == "PASSED", sig.ades_message
        assert sig.timestamp_time is not None
        assert sig.docmdp_ok is not False
        assert sig.coverage == "ENTIRE_REVISION"
    assert by_field[FIELD_PROCESSOR].certification
    assert by_field[FIELD_CUSTOMER].signer_cn == "Karolien Piskor"
    assert by_field[FIELD_CUSTOMER].signer_email == "karolien@mooi.example"
    assert by_field[FIELD_CUSTOMER].cert_sha256 == flow.customer_cert.sha256.hex()
    [ts] = report.document_timestamps
    assert ts.field == FIELD_ARCHIVE_TIMESTAMP
    assert ts.intact and ts.trusted and ts.coverage == "ENTIRE_FILE"
    assert report.to_dict()["ok"] is True


async def test_lta_validates_with_pki_stopped(flow: Flow, dev_pki: DevPKI) -> None:
    dev_pki.stop()
    try:
        report = await validate_pdf(flow.lta, [dev_pki.root_cert])
    finally:
        dev_pki.start()
    assert report.ok, report.to_dict()


def test_pdfsig_accepts_both_signatures(flow: Flow, pdfsig_nssdir: Path, tmp_path: Path) -> None:
    path = _write(tmp_path, flow.lta)
    sigs = pdfsig_signatures(path, pdfsig_nssdir)
    assert [s["Signature Field Name"] for s in sigs] == [
        FIELD_PROCESSOR,
        FIELD_CUSTOMER,
        FIELD_ARCHIVE_TIMESTAMP,
    ]
    assert pdfsig_verdicts(path, pdfsig_nssdir)[:2] == ["Signature is Valid."] * 2
    for sig in sigs[:2]:
        assert sig["Certificate Validation"] == "Certificate is Trusted.", sig
    assert sigs[2]["Signature Validation"] == "Signature has not yet been verified."


def test_qpdf_check_and_pdfa_kept(flow: Flow, tmp_path: Path) -> None:
    for name, data in (("certified.pdf", flow.certified), ("lta.pdf", flow.lta)):
        qpdf_check(_write(tmp_path, data, name))
    with pikepdf.open(BytesIO(flow.lta)) as pdf:
        assert pdf.open_metadata().get("pdfaid:part") == "2"
        assert int(pdf.Root.AcroForm.SigFlags) == 3


def test_customer_certificate_profile(flow: Flow, dev_pki: DevPKI) -> None:
    cert = flow.customer_cert
    assert cert.subject.native["common_name"] == "Karolien Piskor"
    assert cert.subject.native["organization_name"] == "MOOI Schoonheidsverzorging"
    assert cert.subject_alt_name_value.native == ["karolien@mooi.example"]
    assert cert.extended_key_usage_value.native == ["email_protection"]
    assert set(cert.key_usage_value.native) == {"digital_signature", "non_repudiation"}
    assert cert.crl_distribution_points[0].url == dev_pki.customer_ca(TENANT).crl_url
    validity = cert["tbs_certificate"]["validity"]
    lifetime = validity["not_after"].native - validity["not_before"].native
    assert lifetime <= dt.timedelta(days=1, minutes=5)
    other = dev_pki.customer_ca(TENANT).issue_one_time("X", "Y", "x@y.example")
    assert other.signing_cert.serial_number != cert.serial_number


def test_root_identical_after_reload(dev_pki: DevPKI) -> None:
    before = dev_pki.root_cert_path.read_bytes()
    again = DevPKI.load_or_create(dev_pki.folder, [TENANT], port=dev_pki.port)
    assert again.root_cert.dump() == dev_pki.root_cert.dump()
    assert dev_pki.root_cert_path.read_bytes() == before
    # Same port → the whole arch is identical (worker processes rely on this).
    assert (
        again.processor_signer(TENANT).signing_cert.dump()
        == dev_pki.processor_signer(TENANT).signing_cert.dump()
    )
    # Another port changes the URLs in lower certificates, never the root.
    other = DevPKI.load_or_create(dev_pki.folder, [TENANT], port=dev_pki.port + 1)
    assert other.root_cert.dump() == dev_pki.root_cert.dump()
    assert pem.unarmor(before)[2] == dev_pki.root_cert.dump()
    assert "not trusted outside dpabot" in dev_pki.root_cert.subject.native["common_name"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_tsa_down_raises_timestamp_error(dev_pki: DevPKI, flow: Flow) -> None:
    signer = dev_pki.processor_signer(TENANT)
    wrong = f"http://127.0.0.1:{_closed_port()}/tsa"
    with pytest.raises(TimestampError, match=re.escape(wrong)):
        await certify_processor(flow.unsigned, signer, wrong, reason="x")
    dev_pki.stop()
    try:
        with pytest.raises(TimestampError, match="timestamp authority"):
            await certify_processor(flow.unsigned, signer, dev_pki.tsa_url, reason="x")
    finally:
        dev_pki.start()
    # And it recovers once the TSA is back.
    assert await certify_processor(flow.unsigned, signer, dev_pki.tsa_url, reason="x")


async def test_tampered_pdf_is_not_ok(flow: Flow, dev_pki: DevPKI) -> None:
    data = bytearray(flow.lta)
    # Flip one digit of the page's MediaBox: inside every signed byte range.
    pos = data.index(b"/MediaBox") + len(b"/MediaBox")
    while not chr(data[pos]).isdigit():
        pos += 1
    data[pos] = ord("1") if data[pos] != ord("1") else ord("2")
    report = await validate_pdf(bytes(data), [dev_pki.root_cert])
    assert not report.ok
    assert not any(s.intact for s in report.signatures)
