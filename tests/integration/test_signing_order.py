"""Signing order (processor first / customer first) and TSA fallback, to B-LTA.

Checked by pyHanko (validate_pdf, AdES-LTA) and by poppler's pdfsig against the dev PKI.
"""

from __future__ import annotations

import socket
from io import BytesIO
from pathlib import Path

import pytest
import typst
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import (
    FIELD_ARCHIVE_TIMESTAMP,
    FIELD_CUSTOMER,
    FIELD_PROCESSOR,
    DevPKI,
    FallbackTimeStamper,
    SigningError,
    SigningOrder,
    TimestampError,
    add_signature_fields,
    certify_processor,
    make_lta,
    sign_both,
    sign_customer,
    validate_pdf,
)
from tests.fixtures.pki import TENANT, assert_pdfsig_trusted, pdfsig_by_field, qpdf_check

_DOC = '#set page(paper: "a4")\n= Verwerkersovereenkomst\nVolgorde van handtekeningen.\n'


@pytest.fixture(scope="module")
def unsigned(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    src = tmp_path_factory.mktemp("doc") / "dpa.typ"
    src.write_text(_DOC)
    return add_signature_fields(typst.compile(str(src), format="pdf", pdf_standards=["a-2b"]))


def _dead_url() -> str:
    """A TSA URL on a local port that nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    return f"http://127.0.0.1:{port}/tsa"


def _field_order(pdf: bytes) -> list[str]:
    reader = PdfFileReader(BytesIO(pdf))
    return [s.field_name for s in reader.embedded_signatures]


# -- signing order -----------------------------------------------------------------------


@pytest.mark.parametrize("order", ["processor_first", "customer_first"])
async def test_both_orders_end_in_valid_lta(
    order: SigningOrder,
    dev_pki: DevPKI,
    unsigned: bytes,
    pdfsig_nssdir: Path,
    tmp_path: Path,
) -> None:
    customer = dev_pki.customer_ca(TENANT).issue_one_time(
        "Karolien Piskor", "MOOI Schoonheidsverzorging", "karolien@mooi.example"
    )
    lta = await sign_both(
        unsigned,
        dev_pki.processor_signer(TENANT),
        customer,
        [dev_pki.tsa_url],
        order,
        processor_reason="Verwerkersovereenkomst v1",
        customer_reason="Akkoord per e-mail <abc@mooi.example>",
        location="Antwerpen",
        trust_roots=[dev_pki.root_cert],
    )
    first, second = (
        (FIELD_PROCESSOR, FIELD_CUSTOMER)
        if order == "processor_first"
        else (FIELD_CUSTOMER, FIELD_PROCESSOR)
    )
    assert _field_order(lta) == [first, second, FIELD_ARCHIVE_TIMESTAMP]

    report = await validate_pdf(lta, [dev_pki.root_cert])
    assert report.ok, report.to_dict()
    by_field = {s.field: s for s in report.signatures}
    assert set(by_field) == {FIELD_PROCESSOR, FIELD_CUSTOMER}
    for sig in report.signatures:
        assert sig.ades_status == "PASSED", sig.ades_message
        assert sig.timestamp_time is not None
        assert sig.docmdp_ok is not False
    # A certification signature must be the first one: only processor_first certifies.
    assert by_field[FIELD_PROCESSOR].certification is (order == "processor_first")
    assert not by_field[FIELD_CUSTOMER].certification
    [ts] = report.document_timestamps
    assert ts.field == FIELD_ARCHIVE_TIMESTAMP and ts.trusted

    path = tmp_path / f"{order}.pdf"
    path.write_bytes(lta)
    qpdf_check(path)
    # pdfsig lists signatures in form-field order, not in signing order.
    sigs = pdfsig_by_field(path, pdfsig_nssdir)
    assert set(sigs) == {FIELD_PROCESSOR, FIELD_CUSTOMER, FIELD_ARCHIVE_TIMESTAMP}
    assert_pdfsig_trusted(sigs, FIELD_PROCESSOR, FIELD_CUSTOMER)


async def test_sign_both_without_roots_stops_at_b_t(dev_pki: DevPKI, unsigned: bytes) -> None:
    customer = dev_pki.customer_ca(TENANT).issue_one_time("A", "B", "a@b.example")
    signed = await sign_both(
        unsigned,
        dev_pki.processor_signer(TENANT),
        customer,
        dev_pki.tsa_url,  # a single URL is accepted too
        "customer_first",
        processor_reason="p",
        customer_reason="c",
    )
    assert _field_order(signed) == [FIELD_CUSTOMER, FIELD_PROCESSOR]
    with pytest.raises(SigningError, match="Unknown signing order"):
        await sign_both(
            unsigned,
            dev_pki.processor_signer(TENANT),
            customer,
            dev_pki.tsa_url,
            "sideways",  # type: ignore[arg-type]
            processor_reason="p",
            customer_reason="c",
        )


# -- TSA fallback -------------------------------------------------------------------------


async def test_dead_first_tsa_falls_back_to_second(dev_pki: DevPKI, unsigned: bytes) -> None:
    dead = _dead_url()
    urls = [dead, dev_pki.tsa_url]
    certified = await certify_processor(
        unsigned, dev_pki.processor_signer(TENANT), urls, reason="fallback"
    )
    customer = dev_pki.customer_ca(TENANT).issue_one_time("A", "B", "a@b.example")
    signed = await sign_customer(certified, customer, urls, reason="fallback")
    lta = await make_lta(signed, [dev_pki.root_cert], urls)
    report = await validate_pdf(lta, [dev_pki.root_cert])
    assert report.ok, report.to_dict()
    assert all(s.timestamp_time is not None for s in report.signatures)
    assert len(report.document_timestamps) == 1


async def test_timestamper_reports_which_tsa_answered(dev_pki: DevPKI) -> None:
    stamper = FallbackTimeStamper([_dead_url(), dev_pki.tsa_url])
    token = await stamper.async_timestamp(b"\0" * 32, "sha256")
    assert stamper.used_url == dev_pki.tsa_url
    assert token["content"]["encap_content_info"]["content"].parsed["gen_time"].native


async def test_all_tsas_dead_raises_naming_each(dev_pki: DevPKI, unsigned: bytes) -> None:
    dead = [_dead_url(), _dead_url()]
    signer = dev_pki.processor_signer(TENANT)
    with pytest.raises(TimestampError) as err:
        await certify_processor(unsigned, signer, dead, reason="x")
    for url in dead:
        assert url in str(err.value)
    assert "not signed" in str(err.value)

    # The archive timestamp too: no DSS-only result without a real time.
    certified = await certify_processor(unsigned, signer, dev_pki.tsa_url, reason="x")
    with pytest.raises(TimestampError) as err:
        await make_lta(certified, [dev_pki.root_cert], dead)
    assert all(url in str(err.value) for url in dead)

    # The dev TSA stopped as well: every configured TSA is down.
    dev_pki.stop()
    try:
        with pytest.raises(TimestampError, match="timestamp authority"):
            await sign_customer(
                certified,
                dev_pki.customer_ca(TENANT).issue_one_time("A", "B", "a@b.example"),
                [*dead, dev_pki.tsa_url],
                reason="x",
            )
    finally:
        dev_pki.start()

    with pytest.raises(TimestampError, match="No timestamp authority is configured"):
        await certify_processor(unsigned, signer, [], reason="x")
