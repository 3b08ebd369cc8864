"""Every document template: faithful to its seeds, PDF/A before and after signing, a draft form
a PDF reader can fill, and field values that stay data."""

from __future__ import annotations

import copy
import difflib
import io
import json
import re
import subprocess
from pathlib import Path

import pikepdf
import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import certify_processor, make_lta, sign_customer, validate_pdf
from templates import TemplateError, list_templates, load_manifest, read_form_fields, render_pdf

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT.parent / "shared" / "seeds"  # shared/ sits beside the checkout, in CI too
TEMPLATES = list_templates()
EXAMPLES = [(t, e.data, e.seed, e.min_ratio) for t in TEMPLATES for e in load_manifest(t).examples]


def example(template: str, name: str | None = None) -> dict:
    manifest = load_manifest(template)
    name = name or manifest.examples[0].data
    return json.loads((manifest.directory / name).read_text(encoding="utf-8"))


def pdftotext(pdf: bytes) -> str:
    out = subprocess.run(
        ["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return out.stdout.decode("utf-8")


def words(text: str) -> list[str]:
    """Words for comparison: hyphenation undone, punctuation and case ignored."""
    text = re.sub("\u00ad\\s*\n\\s*", "", text)  # Typst's soft hyphens at line ends
    text = re.sub(r"(\w)-[ \t]*\n\s*(\w)", r"\1\2", text)  # the seeds' hyphenation
    out = []
    for token in text.split():
        token = token.strip(".,:;()[]{}\"'’‘“”•–—-…°").lower()
        if re.search(r"\w", token):
            out.append(token)
    return out


def test_every_template_declares_its_seeds():
    assert {"ibeauty", "also", "clauses", "it4professionals"} <= set(TEMPLATES)
    seeds = {seed for _, _, seed, _ in EXAMPLES}
    assert seeds == {"000", "001", "002", "003", "004"}


@pytest.mark.parametrize(("template", "data", "seed", "min_ratio"), EXAMPLES)
def test_render_contains_the_seed_text_in_order(template, data, seed, min_ratio):
    (seed_file,) = SEEDS.glob(f"{seed}_*.txt")
    expected = words(seed_file.read_text(encoding="utf-8"))
    rendered = words(pdftotext(render_pdf(template, example(template, data), draft=False)))
    matcher = difflib.SequenceMatcher(None, expected, rendered, autojunk=False)
    ratio = sum(b.size for b in matcher.get_matching_blocks()) / len(expected)
    print(f"{template} vs seed {seed}: {ratio:.4f}")
    if ratio < min_ratio:
        gaps = [
            " ".join(expected[i1:i2])
            for tag, i1, i2, _, _ in matcher.get_opcodes()
            if tag in ("delete", "replace")
        ]
        pytest.fail(
            f"{template}: only {ratio:.3f} of seed {seed}'s words in order "
            f"(needs {min_ratio}); first missing passages: {gaps[:10]}"
        )


def _pdfa_facts(pdf: bytes) -> dict:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        meta = doc.open_metadata()
        intents = doc.Root.get("/OutputIntents", [])
        fonts = {}
        for page in doc.pages:
            for font in page.obj.Resources.get("/Font", {}).values():
                descendants = font.get("/DescendantFonts", [font])
                for f in descendants:
                    desc = f.get("/FontDescriptor", {})
                    fonts[str(f.BaseFont)] = any(
                        k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")
                    )
        return {
            "part": meta.get("pdfaid:part"),
            "conformance": meta.get("pdfaid:conformance"),
            "intent": bool(intents)
            and intents[0].S == pikepdf.Name.GTS_PDFA1
            and "/DestOutputProfile" in intents[0],
            "fonts": fonts,
        }


@pytest.mark.parametrize("template", TEMPLATES)
async def test_final_is_pdfa_before_and_after_both_signatures(template, dev_pki):
    pdf = render_pdf(template, example(template), draft=False)
    before = _pdfa_facts(pdf)
    assert before["part"] == "2" and before["conformance"] == "B" and before["intent"]
    assert before["fonts"] and all(before["fonts"].values()), before["fonts"]
    # Subsetted: a subset font's name starts with six capitals and '+'.
    assert all(re.match(r"/[A-Z]{6}\+", name) for name in before["fonts"]), before["fonts"]
    signed = await certify_processor(
        pdf, dev_pki.processor_signer("ibeauty"), dev_pki.tsa_url, reason="test"
    )
    one_time = dev_pki.customer_ca("ibeauty").issue_one_time("K P", "Klant", "k@klant.example")
    signed = await sign_customer(signed, one_time, dev_pki.tsa_url, reason="test")
    signed = await make_lta(signed, [dev_pki.root_cert], dev_pki.tsa_url)
    assert (await validate_pdf(signed, [dev_pki.root_cert])).ok
    after = _pdfa_facts(signed)
    assert after == before  # signing adds no font, drops no XMP or OutputIntent


def fill_like_a_reader(pdf: bytes, values: dict[str, str]) -> bytes:
    """What a PDF reader does on save: new /V and a new appearance stream per changed field,
    appended as an incremental update (the original bytes stay as they are)."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    for ref in w.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        name = str(field["/T"])
        if name not in values:
            continue
        field["/V"] = generic.TextStringObject(values[name])
        x1, y1, x2, y2 = (float(v) for v in field["/Rect"])
        da = str(field.get("/DA") or w.root["/AcroForm"]["/DA"])
        text = values[name].encode("cp1252", errors="replace")
        text = text.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
        stream = generic.StreamObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/XObject"),
                generic.NameObject("/Subtype"): generic.NameObject("/Form"),
                generic.NameObject("/BBox"): generic.ArrayObject(
                    [
                        generic.FloatObject(0),
                        generic.FloatObject(0),
                        generic.FloatObject(x2 - x1),
                        generic.FloatObject(y2 - y1),
                    ]
                ),
                generic.NameObject("/Resources"): w.root["/AcroForm"]["/DR"],
            },
            stream_data=b"/Tx BMC q BT "
            + da.encode()
            + b" 2 "
            + str(y2 - y1 - 12).encode()
            + b" Td ("
            + text
            + b") Tj ET Q EMC",
        )
        field["/AP"] = generic.DictionaryObject({generic.NameObject("/N"): w.add_object(stream)})
        w.mark_update(ref)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


@pytest.mark.parametrize("template", TEMPLATES)
def test_draft_form_has_every_annex_field_prefilled_and_can_be_filled(template, tmp_path):
    manifest = load_manifest(template)
    data = example(template)
    for f in manifest.annex_fields:  # a new contract: the proposals, not the seed's answers
        data["fields"].pop(f.id, None)
        if f.default:
            data["fields"][f.id] = f.default
    draft = render_pdf(template, data, draft=True)
    fields = read_form_fields(draft)
    assert list(fields) == [f.id for f in manifest.annex_fields]
    assert fields == {f.id: f.default or "" for f in manifest.annex_fields}
    first = manifest.annex_fields[0].id
    filled = fill_like_a_reader(draft, {first: "Ingevuld door de klant (één keer)"})
    assert filled.startswith(draft)  # an incremental update, as readers save signed forms
    again = read_form_fields(filled)
    assert again[first] == "Ingevuld door de klant (één keer)"
    assert {k: v for k, v in again.items() if k != first} == {
        k: v for k, v in fields.items() if k != first
    }
    path = tmp_path / "filled.pdf"
    path.write_bytes(filled)
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    # pyHanko reads the same values from the filled file.
    reader = PdfFileReader(io.BytesIO(filled))
    values = {
        str(f.get_object()["/T"]): str(f.get_object().get("/V", ""))
        for f in reader.root["/AcroForm"]["/Fields"]
    }
    assert values[first] == "Ingevuld door de klant (één keer)"


@pytest.mark.parametrize("template", TEMPLATES)
def test_values_are_data_never_markup(template):
    data = copy.deepcopy(example(template))
    annex = load_manifest(template).annex_fields[0].id
    nasty = "#set text(red) *vet* ] $x$ <l> @ref // geen commentaar _u_ `raw`"
    data["fields"][annex] = nasty
    data["fields"]["customer_name"] = "Salon #1 *Ster* ] $5"
    text = re.sub(r"\s+", " ", pdftotext(render_pdf(template, data, draft=False)))
    assert nasty in text and "Salon #1 *Ster* ] $5" in text
    assert read_form_fields(render_pdf(template, data, draft=True))[annex] == nasty


@pytest.mark.parametrize("template", TEMPLATES)
def test_very_long_value_renders_whole(template):
    data = copy.deepcopy(example(template))
    annex = load_manifest(template).annex_fields[0].id
    long_value = " ".join(f"woord{i}" for i in range(900))  # about 7,000 characters
    data["fields"][annex] = long_value
    text = pdftotext(render_pdf(template, data, draft=False))
    assert "woord0" in text and "woord899" in text


@pytest.mark.parametrize("value", ["שלום עולם", "مرحبا", "Top 👍", "nul\x00byte"])
@pytest.mark.parametrize("template", TEMPLATES)
def test_unprintable_text_fails_naming_the_field(template, value):
    data = copy.deepcopy(example(template))
    annex = load_manifest(template).annex_fields[0].id
    data["fields"][annex] = value
    for draft in (False, True):
        with pytest.raises(TemplateError) as err:
            render_pdf(template, data, draft=draft)
        assert f"'{annex}'" in str(err.value) and "cannot print" in str(err.value)


@pytest.mark.parametrize("template", TEMPLATES)
def test_accented_and_non_latin_european_text_prints(template):
    data = copy.deepcopy(example(template))
    annex = load_manifest(template).annex_fields[0].id
    data["fields"][annex] = "Crème brûlée, Łódź, Ελληνικά, Кириллица, € 5"
    text = pdftotext(render_pdf(template, data, draft=False))
    assert "Crème brûlée, Łódź, Ελληνικά, Кириллица, € 5" in re.sub(r"\s+", " ", text)
