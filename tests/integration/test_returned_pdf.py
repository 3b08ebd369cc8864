"""A contract the customer signed with their own tool (poppler's pdfsig + NSS, RSA) and returned."""

from __future__ import annotations

import json
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing import (
    FIELD_CUSTOMER,
    DevPKI,
    ReturnedVerdict,
    certify_processor,
    check_returned_pdf,
)
from templates import render_pdf
from tests.fixtures.nss_signer import NssSigner, issue_rsa_cert, make_nss_signer
from tests.fixtures.pki import TENANT, pdfsig_signatures

ROOT = Path(__file__).resolve().parents[2]
NAME = "Karolien Piskor"
EMAIL = "karolien@mooi.example"
# Sentences sent to the customer must not leak internals.
_INTERNAL = ("byte", "revision", "ByteRange", "pyHanko", "pixel", "root", "SHA")


@dataclass
class Docs:
    unsigned: bytes  # the final render before the processor certified it
    sent: bytes  # what dpabot mailed: certified by the processor


@dataclass
class Customer:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    chain: list[x509.Certificate]
    nss: NssSigner


@pytest.fixture(scope="module")
async def docs(dev_pki: DevPKI) -> Docs:
    data = json.loads(
        (ROOT / "templates/documents/ibeauty/example-000.json").read_text(encoding="utf-8")
    )
    unsigned = render_pdf(TENANT, data, draft=False)
    sent = await certify_processor(
        unsigned, dev_pki.processor_signer(TENANT), dev_pki.tsa_url, reason="DPA v1"
    )
    return Docs(unsigned, sent)


def _customer(
    dev_pki: DevPKI, folder: Path, name: str, email: str, *, self_signed: bool = False
) -> Customer:
    ca = dev_pki.customer_ca(TENANT)
    if self_signed:
        key, cert = issue_rsa_cert(name, email, None)
        chain: list[x509.Certificate] = []
    else:
        key, cert = issue_rsa_cert(name, email, ca)
        chain = [ca.ca_cert]
    return Customer(key, cert, chain, make_nss_signer(folder, key, cert, chain))


@pytest.fixture(scope="module")
def karolien(dev_pki: DevPKI, tmp_path_factory: pytest.TempPathFactory) -> Customer:
    return _customer(dev_pki, tmp_path_factory.mktemp("nss-karolien"), NAME, EMAIL)


@pytest.fixture(scope="module")
def stranger(dev_pki: DevPKI, tmp_path_factory: pytest.TempPathFactory) -> Customer:
    return _customer(
        dev_pki, tmp_path_factory.mktemp("nss-stranger"), "Jan Janssens", "jan@elders.example"
    )


@pytest.fixture(scope="module")
def self_signed(dev_pki: DevPKI, tmp_path_factory: pytest.TempPathFactory) -> Customer:
    return _customer(
        dev_pki, tmp_path_factory.mktemp("nss-selfsigned"), NAME, EMAIL, self_signed=True
    )


@pytest.fixture(scope="module")
def good(docs: Docs, karolien: Customer, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return karolien.nss.sign(docs.sent, tmp_path_factory.mktemp("good"), field=FIELD_CUSTOMER)


async def _check(
    dev_pki: DevPKI, sent: bytes, returned: bytes, *, name: str = NAME, email: str = EMAIL
) -> ReturnedVerdict:
    return await check_returned_pdf(
        sent, returned, [dev_pki.root_cert], customer_name=name, customer_email=email
    )


_TAMPER = b"BT /FTamper 14 Tf 72 420 Td (Prijs: 0 EUR, geen aansprakelijkheid) Tj ET"


def _helvetica() -> generic.DictionaryObject:
    return generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/Font"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/Type1"),
            generic.pdf_name("/BaseFont"): generic.pdf_name("/Helvetica"),
        }
    )


def _add_text(writer: IncrementalPdfFileWriter) -> None:
    """Stage new visible text on page 1 (what a PDF editor's "add text" does)."""
    font = writer.add_object(_helvetica())
    stream = writer.add_object(generic.StreamObject(stream_data=_TAMPER))
    resources = generic.DictionaryObject(
        {generic.pdf_name("/Font"): generic.DictionaryObject({generic.pdf_name("/FTamper"): font})}
    )
    writer.add_stream_to_page(0, stream, resources=resources)


def _incremental_text_edit(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    _add_text(writer)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _rewritten_text_edit(pdf: bytes) -> bytes:
    """Edit page 1 and save the whole file again, as most PDF editors do."""
    with pikepdf.open(BytesIO(pdf)) as doc:
        page = doc.pages[0]
        font = doc.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
            )
        )
        page.add_resource(font, pikepdf.Name.Font, pikepdf.Name("/FTamper"))
        page.contents_add(pikepdf.Stream(doc, _TAMPER))
        out = BytesIO()
        doc.save(out)
        return out.getvalue()


def _assert_refused(verdict: ReturnedVerdict, code: str) -> None:
    assert not verdict.ok, verdict
    assert verdict.reason_code == code, verdict.to_dict()
    assert set(verdict.reason) == {"nl", "fr", "en"}
    for lang, sentence in verdict.reason.items():
        assert sentence.strip().endswith("."), (lang, sentence)
        assert not any(word in sentence for word in _INTERNAL), (lang, sentence)
    assert len(verdict.staff_detail) > 20, verdict.staff_detail


# -- (a) accepted ---------------------------------------------------------------------------


async def test_pdfsig_signature_over_sent_pdf_is_accepted(
    dev_pki: DevPKI, docs: Docs, good: bytes, karolien: Customer
) -> None:
    assert good.startswith(docs.sent)
    verdict = await _check(dev_pki, docs.sent, good)
    assert verdict.ok, verdict.to_dict()
    assert verdict.reason_code == "ok"
    assert not verdict.needs_staff_confirmation
    assert verdict.signature_field == FIELD_CUSTOMER
    assert verdict.signer_cn == NAME
    assert verdict.signer_email == EMAIL
    fingerprint = asn1_x509.Certificate.load(
        karolien.cert.public_bytes(serialization.Encoding.DER)
    ).sha256.hex()
    assert verdict.cert_sha256 == fingerprint
    assert set(verdict.reason) == {"nl", "fr", "en"}


def test_pdfsig_itself_validates_the_good_pdf(
    good: bytes, pdfsig_nssdir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "good.pdf"
    path.write_bytes(good)
    sigs = pdfsig_signatures(path, pdfsig_nssdir, no_ocsp=True)
    customer = [s for s in sigs if s.get("Signature Field Name") == FIELD_CUSTOMER]
    assert customer and customer[0]["Signature Validation"] == "Signature is Valid."


async def test_new_signature_field_is_accepted(
    dev_pki: DevPKI, docs: Docs, karolien: Customer, tmp_path: Path
) -> None:
    """Tools that add their own field (pdfsig -add-signature) instead of filling "Customer"."""
    returned = karolien.nss.sign(docs.sent, tmp_path, field=None)
    verdict = await _check(dev_pki, docs.sent, returned)
    assert verdict.ok, verdict.to_dict()
    assert verdict.signature_field != FIELD_CUSTOMER


@pytest.mark.parametrize(
    ("name", "email"),
    [
        ("karolién  PISKOR", "someone@else.example"),  # name: case, accents, spaces
        ("K. Piskor", "Karolien@MOOI.example"),  # email only
    ],
)
async def test_signer_matches_name_or_email(
    dev_pki: DevPKI, docs: Docs, good: bytes, name: str, email: str
) -> None:
    verdict = await _check(dev_pki, docs.sent, good, name=name, email=email)
    assert verdict.ok, verdict.to_dict()


# -- refusals -------------------------------------------------------------------------------


async def test_text_changed_after_customer_signature_is_refused(
    dev_pki: DevPKI, docs: Docs, good: bytes
) -> None:
    """(b) An incremental update after the signature: the signature no longer covers the file."""
    returned = _incremental_text_edit(good)
    verdict = await _check(dev_pki, docs.sent, returned)
    _assert_refused(verdict, "appended_after_signature")
    assert "appended" in verdict.staff_detail


async def test_signature_over_older_version_is_refused(
    dev_pki: DevPKI, docs: Docs, karolien: Customer, tmp_path: Path
) -> None:
    """(c) The customer signed the render before the processor certified it."""
    returned = karolien.nss.sign(docs.unsigned, tmp_path, field=FIELD_CUSTOMER)
    verdict = await _check(dev_pki, docs.sent, returned)
    _assert_refused(verdict, "not_sent_version")


async def test_self_signed_certificate_is_refused(
    dev_pki: DevPKI, docs: Docs, self_signed: Customer, tmp_path: Path
) -> None:
    """(d) Name and email match, but the chain reaches none of the tenant's roots."""
    returned = self_signed.nss.sign(docs.sent, tmp_path, field=FIELD_CUSTOMER)
    verdict = await _check(dev_pki, docs.sent, returned)
    _assert_refused(verdict, "untrusted_certificate")
    assert not verdict.needs_staff_confirmation
    assert verdict.signer_cn == NAME
    assert "trust root" in verdict.staff_detail


async def test_certificate_of_another_person_needs_staff(
    dev_pki: DevPKI, docs: Docs, stranger: Customer, tmp_path: Path
) -> None:
    """(e) Valid and trusted, but issued to someone else: staff may confirm in chat."""
    returned = stranger.nss.sign(docs.sent, tmp_path, field=FIELD_CUSTOMER)
    verdict = await _check(dev_pki, docs.sent, returned)
    _assert_refused(verdict, "signer_mismatch")
    assert verdict.needs_staff_confirmation
    assert verdict.signer_cn == "Jan Janssens"
    assert verdict.signer_email == "jan@elders.example"
    assert "Jan Janssens" in verdict.staff_detail and NAME in verdict.staff_detail


async def test_pages_edited_then_signed_is_refused(
    dev_pki: DevPKI, docs: Docs, karolien: Customer, tmp_path: Path
) -> None:
    """(f) The customer edited the text (editor saves the whole file), then signed."""
    returned = karolien.nss.sign(_rewritten_text_edit(docs.sent), tmp_path, field=FIELD_CUSTOMER)
    verdict = await _check(dev_pki, docs.sent, returned)
    _assert_refused(verdict, "not_sent_version")
    assert "does not start with" in verdict.staff_detail


async def test_incremental_edit_before_signing_is_refused(
    dev_pki: DevPKI, docs: Docs, karolien: Customer, tmp_path: Path
) -> None:
    """(f') The edit is an incremental update on the sent bytes: the prefix still matches."""
    edited = _incremental_text_edit(docs.sent)
    returned = karolien.nss.sign(edited, tmp_path, field=FIELD_CUSTOMER)
    assert returned.startswith(docs.sent)
    verdict = await _check(dev_pki, docs.sent, returned)
    _assert_refused(verdict, "changed_before_signing")


def _pyhanko_signer(customer: Customer) -> SimpleSigner:
    def asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))

    key_der = customer.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SimpleSigner(
        signing_cert=asn1(customer.cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([asn1(c) for c in customer.chain]),
    )


async def test_edit_inside_the_signing_revision_is_refused_by_pixels(
    dev_pki: DevPKI, docs: Docs, karolien: Customer
) -> None:
    """A tool that changes the page in the very revision it signs: only the rendering shows it."""
    writer = IncrementalPdfFileWriter(BytesIO(docs.sent), strict=False)
    _add_text(writer)
    meta = PdfSignatureMetadata(field_name=FIELD_CUSTOMER)
    out = await PdfSigner(meta, _pyhanko_signer(karolien)).async_sign_pdf(writer)
    returned = out.getvalue()
    assert returned.startswith(docs.sent)
    verdict = await _check(dev_pki, docs.sent, returned)
    _assert_refused(verdict, "pages_changed")
    assert "Page 1" in verdict.staff_detail


async def test_visible_signature_widget_is_masked(
    dev_pki: DevPKI, docs: Docs, karolien: Customer
) -> None:
    """A visible signature (a new field with a stamp on page 1) differs only inside its /Rect."""
    writer = IncrementalPdfFileWriter(BytesIO(docs.sent), strict=False)
    signer = PdfSigner(
        PdfSignatureMetadata(field_name="Handtekening"),
        _pyhanko_signer(karolien),
        new_field_spec=SigFieldSpec("Handtekening", on_page=0, box=(300, 60, 540, 130)),
    )
    returned = (await signer.async_sign_pdf(writer)).getvalue()
    verdict = await _check(dev_pki, docs.sent, returned)
    assert verdict.ok, verdict.to_dict()
    assert verdict.signature_field == "Handtekening"


async def test_unsigned_return_and_garbage_are_refused(dev_pki: DevPKI, docs: Docs) -> None:
    _assert_refused(await _check(dev_pki, docs.sent, docs.sent), "no_customer_signature")
    _assert_refused(await _check(dev_pki, docs.sent, b"%PDF-1.7\nnot a pdf"), "unreadable")
