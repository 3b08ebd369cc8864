"""Integration tests: Typst renders the iBeauty DPA, checked with pikepdf, poppler and qpdf."""

from __future__ import annotations

import copy
import io
import json
import re
import subprocess
from pathlib import Path

import pikepdf
import pytest

from templates import SIGNATURE_FIELDS, TemplateError, read_form_fields, render_pdf

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = ROOT / "templates" / "documents" / "ibeauty"
ANNEX = ["subject", "duration", "nature_purpose", "data_types", "data_subjects"]
ARTICLES = [
    "Artikel 1: Voorwerp van de overeenkomst (art. 28, lid 3, a)",
    "Artikel 2: Naleving van de Algemene Verordening Gegevensbescherming",
    "Artikel 3: Terbeschikkingstelling van de gegevens",
    "Artikel 4: Gebruik van de persoonsgegevens (art. 28, lid 3, 4)",
    "Artikel 5: Gebruik sub-verwerkers (art. 28 lid 4)",
    "Artikel 6: Beveiliging (art. 32)",
    "Artikel 7: Fysische toegangsbeperking",
    "Artikel 8: Functionele toegangsbeperking",
    "Artikel 9: Voorlichting (art. 29)",
    "Artikel 10: Toepassing van de kennisgevingsplicht (art. 13)",
    "Artikel 11: Controle door de verwerkingsverantwoordelijke (art. 28 lid 3, h)",
    "Artikel 12: Aansprakelijkheid (art. 82, lid 2)",
    "Artikel 13: Verplichting na beëindiging van de verwerking van persoonsgegevens"
    " (art. 28, lid 3, g)",
]


def example(n: int) -> dict:
    return json.loads((TEMPLATE_DIR / f"example-00{n}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def final_pdf() -> bytes:
    return render_pdf("ibeauty", example(0), draft=False)


@pytest.fixture(scope="module")
def draft_pdf() -> bytes:
    return render_pdf("ibeauty", example(0), draft=True)


def pdftotext(pdf: bytes, *args: str) -> str:
    out = subprocess.run(["pdftotext", *args, "-", "-"], input=pdf, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def unwrap(text: str) -> str:
    """Undo line breaks inside words: soft hyphens (Typst) and hyphen + newline."""
    text = re.sub("\u00ad\\s*\n\\s*", "", text)
    return re.sub(r"-[ \t]*\n\s*", "-", text)


def words(text: str) -> list[str]:
    out = []
    for token in text.split():
        token = token.strip(".,:;()[]{}\"'’‘“”•–—-…").lower()
        if re.search(r"\w", token):
            out.append(token)
    return out


# ------------------------------------------------------------------ final PDF: content


def test_final_text_has_parties_articles_and_annexes(final_pdf: bytes) -> None:
    text = re.sub(r"[ \t]*\n[ \t]*", " ", unwrap(pdftotext(final_pdf, "-raw")))
    for needle in [
        "VERWERKERSOVEREENKOMST",
        "De ondergetekenden",
        "MOOI Schoonheidsverzorging",
        "BE0840.465.705",
        "Karolien Piskor",
        "Leverancier iBeauty BVBA",
        "BE0662.785.756",
        "Michel Smekens",
        "Overwegende dat",
        *ARTICLES,
        "Verwerkersovereenkomst – Bijlage 1",
        "Verwerkersovereenkomst – Bijlage 2",
        "Bepalingen art 32 AVG",
        "vernietiging",
        "doeltreffendheid",
        "pagina 1 van 6",
    ]:
        assert needle in text, needle
    data = example(0)
    for key in ANNEX:
        assert data["fields"][key] in text, key
    for label in [
        "Onderwerp van de verwerking",
        "Duur van de verwerking",
        "Aard en doel van de verwerking",
        "Soort persoonsgegevens die worden verwerkt",
        "Categorieën van betrokkenen bij de verwerker",
    ]:
        assert label in text, label
    assert "none" not in text.lower().split()


def test_bijlage_1_has_its_own_page(final_pdf: bytes) -> None:
    pages = pdftotext(final_pdf, "-raw").split("\f")
    annex_pages = [i for i, p in enumerate(pages) if "Verwerkersovereenkomst – Bijlage 1" in p]
    assert len(annex_pages) == 1
    page = pages[annex_pages[0]]
    assert "Artikel 13" not in page and "Bijlage 2" not in page
    assert page.strip().startswith("Verwerkersovereenkomst – Bijlage 1")


def test_example_001_utopia_without_enterprise_number() -> None:
    pdf = render_pdf("ibeauty", example(1), draft=False)
    text = re.sub(r"\s+", " ", unwrap(pdftotext(pdf, "-raw")))
    assert "UTOPIA, hier rechtsgeldig vertegenwoordigd door Tineke Verellen" in text
    # Fidelity to seeds 000 and 001: tests/integration/test_templates_all.py.


def test_typst_syntax_in_values_is_literal() -> None:
    data = copy.deepcopy(example(0))
    nasty = "#set text(red) *x* ] $a$ <lbl> @ref // no comment \\ _u_ `raw`"
    data["fields"]["customer_name"] = "Salon #1 *Ster* ] $5"
    data["fields"]["subject"] = nasty
    for draft in (False, True):
        pdf = render_pdf("ibeauty", data, draft=draft)
        text = re.sub(r"\s+", " ", unwrap(pdftotext(pdf, "-raw")))
        assert "Salon #1 *Ster* ] $5" in text
        if draft:
            assert read_form_fields(pdf)["subject"] == nasty
        else:
            assert nasty in text


# ------------------------------------------------------------------ final PDF: structure


def test_final_has_exactly_two_empty_signature_fields(final_pdf: bytes, tmp_path: Path) -> None:
    rects = {}
    with pikepdf.open(io.BytesIO(final_pdf)) as pdf:
        form = pdf.Root.AcroForm
        assert int(form.SigFlags) == 3
        fields = list(form.Fields)
        assert [str(f.T) for f in fields] == list(SIGNATURE_FIELDS) == ["Processor", "Customer"]
        annotated = {i for i, page in enumerate(pdf.pages) if "/Annots" in page.obj}
        assert len(annotated) == 1
        sig_page = pdf.pages[annotated.pop()]
        for f in fields:
            assert f.FT == pikepdf.Name.Sig and "/V" not in f
            # Visible: a real box where the party's signature is drawn, empty until signed
            # (PDF/A: every annotation with an area has an appearance).
            x1, y1, x2, y2 = (float(v) for v in f.Rect)
            assert x2 - x1 > 150 and y2 - y1 > 50
            assert f.AP.N.read_bytes() == b""
            rects[str(f.T)] = (x1, y1, x2, y2)
            assert int(f.F) & 4 and not int(f.F) & 2  # print, not hidden
            assert f.P.objgen == sig_page.obj.objgen
            assert any(a.objgen == f.objgen for a in sig_page.obj.Annots)
        assert "/NeedAppearances" not in form
        page_no = pdf.pages.index(sig_page) + 1
        height = float(sig_page.MediaBox[3])
    assert read_form_fields(final_pdf) == {}
    # Side by side (same height on the page, processor left), and no word of the page in them.
    (_, py1, px2, _), (cx1, cy1, _, _) = rects["Processor"], rects["Customer"]
    assert py1 == cy1 and px2 < cx1
    path = tmp_path / "final.pdf"
    path.write_bytes(final_pdf)
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page_no), "-l", str(page_no), str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    words = re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', html)
    assert len(words) > 50
    for x1, y1, x2, y2 in rects.values():
        for wx1, wy1, wx2, wy2 in (map(float, w) for w in words):
            # pdftotext measures from the top; a word inside a box would be overdrawn
            inside = wx2 > x1 and wx1 < x2 and height - wy1 > y1 and height - wy2 < y2
            assert not inside


def test_final_is_pdfa_2b(final_pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(final_pdf)) as pdf:
        meta = pdf.open_metadata()
        assert meta.get("pdfaid:part") == "2" and meta.get("pdfaid:conformance") == "B"
        intents = pdf.Root.OutputIntents
        assert len(intents) >= 1 and intents[0].S == pikepdf.Name.GTS_PDFA1
        assert "/DestOutputProfile" in intents[0]


def test_fonts_embedded(final_pdf: bytes, draft_pdf: bytes, tmp_path: Path) -> None:
    for name, pdf in (("final", final_pdf), ("draft", draft_pdf)):
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(
            ["pdffonts", str(path)], capture_output=True, text=True, check=True
        ).stdout
        rows = out.splitlines()[2:]
        assert rows, out
        for row in rows:
            assert "Carlito" in row, row
            emb = row.split()[-5]  # columns: ... emb sub uni object ID
            assert emb == "yes", row


def test_qpdf_check(final_pdf: bytes, draft_pdf: bytes, tmp_path: Path) -> None:
    for name, pdf in (("final", final_pdf), ("draft", draft_pdf)):
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(pdf)
        result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "No syntax or stream encoding errors" in result.stdout


def test_same_data_same_bytes(final_pdf: bytes, draft_pdf: bytes) -> None:
    assert render_pdf("ibeauty", example(0), draft=False) == final_pdf
    assert render_pdf("ibeauty", example(0), draft=True) == draft_pdf


def test_a_mailed_final_is_never_the_same_bytes_twice(final_pdf: bytes) -> None:
    # Its fingerprint (the start of its SHA-256) must not be computable from its text.
    one = render_pdf("ibeauty", example(0), draft=False, unique=True)
    two = render_pdf("ibeauty", example(0), draft=False, unique=True)
    assert len({one, two, final_pdf}) == 3
    with pikepdf.open(io.BytesIO(one)) as a, pikepdf.open(io.BytesIO(final_pdf)) as b:
        assert a.trailer.ID[0] == b.trailer.ID[0] and a.trailer.ID[1] != b.trailer.ID[1]
        assert [bytes(p.Contents.read_bytes()) for p in a.pages] == [
            bytes(p.Contents.read_bytes()) for p in b.pages
        ]


def test_final_rejects_missing_annex_answer() -> None:
    data = copy.deepcopy(example(0))
    data["fields"]["duration"] = ""
    with pytest.raises(TemplateError, match="duration"):
        render_pdf("ibeauty", data, draft=False)
    with pytest.raises(TemplateError, match="nosuch"):
        render_pdf("nosuch", data, draft=False)


# ------------------------------------------------------------------ draft PDF: form


def test_draft_has_five_prefilled_text_fields(draft_pdf: bytes) -> None:
    data = example(0)
    assert read_form_fields(draft_pdf) == {k: data["fields"][k] for k in ANNEX}
    with pikepdf.open(io.BytesIO(draft_pdf)) as pdf:
        form = pdf.Root.AcroForm
        assert "/NeedAppearances" not in form and "/SigFlags" not in form
        font = form.DR.Font[next(iter(form.DR.Font.keys()))]
        assert "/FontFile2" in font.FontDescriptor
        assert str(form.DA).endswith("Tf 0 g")
        fields = list(form.Fields)
        assert len(fields) == 5
        pages = {f.P.objgen for f in fields}
        assert len(pages) == 1  # all on the Bijlage 1 page
        for f in fields:
            assert f.FT == pikepdf.Name.Tx and int(f.Ff) & 4096  # multiline
            assert "/DA" in f and "/N" in f.AP
            x1, y1, x2, y2 = (float(v) for v in f.Rect)
            assert x2 - x1 > 300 and y2 - y1 > 30
            assert b"Tj" in f.AP.N.read_bytes()


def test_draft_values_visible_when_rendered(draft_pdf: bytes, tmp_path: Path) -> None:
    """The appearance streams really draw the prefilled text (poppler renders widgets)."""
    path = tmp_path / "draft.pdf"
    path.write_bytes(draft_pdf)
    png = tmp_path / "p"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "30", "-f", "4", "-l", "4", str(path), str(png)], check=True
    )
    assert any(tmp_path.glob("p*.png"))


def test_filled_draft_reads_back() -> None:
    """A customer who types into the form and returns it: read_form_fields sees the new values."""
    pdf_bytes = render_pdf("ibeauty", example(0), draft=True)
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        for field in pdf.Root.AcroForm.Fields:
            if str(field.T) == "duration":
                field.V = pikepdf.String("Twee jaar, stilzwijgend verlengd – één keer")
        out = io.BytesIO()
        pdf.save(out)
    values = read_form_fields(out.getvalue())
    assert values["duration"] == "Twee jaar, stilzwijgend verlengd – één keer"
    assert values["subject"] == example(0)["fields"]["subject"]


def test_draft_allows_missing_annex_values() -> None:
    data = copy.deepcopy(example(0))
    for key in ANNEX:
        data["fields"].pop(key)
    values = read_form_fields(render_pdf("ibeauty", data, draft=True))
    assert values == dict.fromkeys(ANNEX, "")


def test_pyhanko_signs_both_fields_of_the_final(final_pdf: bytes, tmp_path: Path) -> None:
    """The contract with signing/: both parties sign the existing fields; PDF/A metadata stays."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dpabot test signer")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    p12 = tmp_path / "signer.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(b"t", key, cert, None, serialization.NoEncryption())
    )
    signer = signers.SimpleSigner.load_pkcs12(str(p12))
    assert signer is not None
    pdf = final_pdf
    for field_name in SIGNATURE_FIELDS:
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            subfilter=fields.SigSeedSubFilter.PADES,
            certify=field_name == "Processor",
            docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        )
        out = io.BytesIO()
        signers.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(pdf)),
            meta,
            signer=signer,
            output=out,
            existing_fields_only=True,
        )
        pdf = out.getvalue()
    reader = PdfFileReader(io.BytesIO(pdf))
    vc = ValidationContext(trust_roots=[signer.signing_cert])
    assert [s.field_name for s in reader.embedded_signatures] == list(SIGNATURE_FIELDS)
    for sig in reader.embedded_signatures:
        assert validate_pdf_signature(sig, vc).bottom_line
    with pikepdf.open(io.BytesIO(pdf)) as signed:
        assert signed.open_metadata().get("pdfaid:part") == "2"
        assert len(signed.Root.AcroForm.Fields) == 2
