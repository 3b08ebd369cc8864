"""Bring your own DPA: seeds and unseen documents (.txt, .md, .docx, .pdf) imported as template
folders through the CLI, checked (fields, three languages, source coverage), rendered as draft
(form fields) and final (PDF/A, two signature fields); bad input refused in one sentence."""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pikepdf
import pytest

from bot.app.cli import main
from templates import read_form_fields
from templates.importer.coverage import coverage, words

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT.parent / "shared" / "seeds"

FIVE = ["subject", "duration", "nature_purpose", "data_types", "data_subjects"]
EXPECTED = {
    "000": ["subject", "duration", "nature_purpose", "data_types", "data_subjects"],
    "001": ["subject", "duration", "nature_purpose", "data_types", "data_subjects"],
    "002": ["subject", "duration", "nature_purpose", "data_types", "data_subjects"],
    "003": [],
    "004": ["data_types", "data_subjects", "dpo_name", "dpo_phone", "dpo_email"],
}


def seed(number: str) -> Path:
    (path,) = SEEDS.glob(f"{number}_*.txt")
    return path


def cli(*argv: str) -> int:
    return main(list(argv))


def check_json(folder: Path, capsys) -> dict:
    capsys.readouterr()
    assert cli("template", "check", str(folder), "--json") == 0
    return json.loads(capsys.readouterr().out)


def pdftotext(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True)
    return out.stdout.decode("utf-8")


def render(folder: Path, tmp_path: Path, data: dict, *, draft: bool) -> bytes:
    data_file = tmp_path / "data.json"
    data_file.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / ("draft.pdf" if draft else "final.pdf")
    argv = ["render", "--template", str(folder), "--data", str(data_file), "-o", str(out)]
    assert cli(*argv, *(["--draft"] if draft else [])) == 0
    return out.read_bytes()


@pytest.mark.parametrize("number", ["000", "001", "002", "003", "004"])
def test_each_seed_imports_with_its_annex_fields_and_keeps_its_text(number, tmp_path, capsys):
    assert cli("template", "import", str(seed(number)), "--id", f"own-{number}",
               "--dir", str(tmp_path)) == 0  # fmt: skip
    folder = tmp_path / f"own-{number}"
    report = check_json(folder, capsys)
    annex = [f["id"] for f in sorted(report["fields"], key=lambda f: f["number"] or 0)
             if f["annex"]]  # fmt: skip
    if number in EXPECTED:
        assert annex == EXPECTED[number]
    for f in report["fields"]:
        if not f["id"].startswith("own_"):
            assert all(f["label"][lang] for lang in ("nl", "fr", "en")), f
    minimum = 0.95 if number == "001" else 0.97
    assert report["source_coverage"] >= minimum
    # The same measure with another tool (pdftotext, as the packaged templates' fidelity test).
    example = json.loads((folder / "example.json").read_text(encoding="utf-8"))
    example["fields"].update(
        {f: "x" for f in annex if not f.startswith("dpo_") and f not in example["fields"]}
    )
    example.setdefault("processor", {}).setdefault("name", "Processor")
    example["fields"].setdefault("customer_representative", "X")
    example["fields"].setdefault("customer_name", "X")
    final = render(folder, tmp_path, example, draft=False)
    ratio, _ = coverage(seed(number).read_text(encoding="utf-8"), pdftotext(final))
    assert ratio >= minimum
    with pikepdf.open(io.BytesIO(final)) as pdf:
        fields = [f for f in pdf.Root.AcroForm.Fields if f.get("/FT") == "/Sig"]
        assert sorted(str(f.T) for f in fields) == ["Customer", "Processor"]
        assert "pdfaid" in str(pdf.open_metadata())
    draft = render(folder, tmp_path, {"fields": {}}, draft=True)
    assert sorted(read_form_fields(draft)) == sorted(annex)


def test_typst_syntax_in_a_value_prints_literally(tmp_path, capsys):
    cli("template", "import", str(seed("000")), "--id", "lit", "--dir", str(tmp_path))
    folder = tmp_path / "lit"
    data = json.loads((folder / "example.json").read_text(encoding="utf-8"))
    data["fields"].update({f: "#set text(red) *x* $y$ ]" for f in EXPECTED["000"]})
    text = pdftotext(render(folder, tmp_path, data, draft=False))
    assert "#set text(red) *x* $y$ ]" in text


def test_docx_with_word_numbering_headings_and_a_label_table(tmp_path, capsys):
    import docx

    doc = docx.Document()
    doc.add_heading("Verwerkersovereenkomst", level=0)
    doc.add_paragraph(
        "Atelier Noord BV, met ondernemingsnummer BE0403.170.701, hier vertegenwoordigd door "
        "Jan Peeters, hierna de verwerkingsverantwoordelijke."
    )
    body = seed("004").read_text(encoding="utf-8").split("Artikel 1.", 1)[1].split("Aldus")[0]
    for block in ("Artikel 1." + body).split("\n\n"):
        line = " ".join(block.split())
        if re.match(r"Artikel \d+\.", line):
            doc.add_heading(line.split("\n")[0], level=1)
        elif line:
            doc.add_paragraph(line)
    doc.add_page_break()
    doc.add_heading("Bijlage 1: Specificatie van de verwerking", level=1)
    table = doc.add_table(rows=0, cols=2)
    for label, value in [("Onderwerp van de verwerking", "Hosting"), ("Duur", ""),
                         ("Categorieën van betrokkenen", "Klanten"),
                         ("Bewaarlocatie", "België")]:  # fmt: skip
        row = table.add_row().cells
        row[0].text, row[1].text = label, value
    path = tmp_path / "dpa.docx"
    doc.save(path)
    assert cli("template", "import", str(path), "--id", "noord", "--dir", str(tmp_path)) == 0
    report = check_json(tmp_path / "noord", capsys)
    annex = {f["id"]: f for f in report["fields"] if f["annex"]}
    assert list(annex) == ["subject", "duration", "data_subjects", "noord_bewaarlocatie"]
    assert annex["noord_bewaarlocatie"]["label"]["nl"] == "Bewaarlocatie"
    assert report["source_coverage"] >= 0.97
    example = json.loads((tmp_path / "noord" / "example.json").read_text(encoding="utf-8"))
    assert example["fields"]["customer_name"] == "Atelier Noord BV"
    assert example["fields"]["subject"] == "Hosting"


def test_pdf_import_of_a_rendered_dpa(tmp_path, capsys):
    cli("template", "import", str(seed("004")), "--id", "first", "--dir", str(tmp_path))
    data = json.loads((tmp_path / "first" / "example.json").read_text(encoding="utf-8"))
    pdf = tmp_path / "in.pdf"  # the draft: the annex's boxes are empty form fields
    pdf.write_bytes(render(tmp_path / "first", tmp_path, data, draft=True))
    assert cli("template", "import", str(pdf), "--id", "again", "--dir", str(tmp_path)) == 0
    report = check_json(tmp_path / "again", capsys)
    annex = [f["id"] for f in report["fields"] if f["annex"]]
    assert annex == ["data_types", "data_subjects", "dpo_name", "dpo_phone", "dpo_email"]
    assert report["source_coverage"] >= 0.97


def test_french_markdown_and_english_text_nobody_here_wrote(tmp_path, capsys):
    md = tmp_path / "dpa.md"
    md.write_text(
        "# Accord de sous-traitance\n\nEntre la société Dupont SA, numéro d'entreprise "
        "BE0403.170.701, représentée par Marie Dupont, ci-après le responsable du traitement, "
        "et Logiciels Plus SRL, ci-après le sous-traitant.\n\n"
        "## Article 1. Objet\n\nLe sous-traitant traite les données pour le compte du "
        "responsable du traitement, conformément à l'article 28 du RGPD.\n\n"
        "## Article 2. Sécurité\n\nLe sous-traitant met en œuvre des mesures appropriées.\n\n"
        "# Annexe 1 : Description du traitement\n\n"
        "| Rubrique | Réponse |\n|---|---|\n| Objet du traitement | Paie |\n"
        "| Durée du traitement | |\n| Finalités | Gestion des salaires |\n"
        "| Catégories de données | Identité, salaire |\n"
        "| Catégories de personnes concernées | Employés |\n",
        encoding="utf-8",
    )
    assert cli("template", "import", str(md), "--id", "dupont", "--dir", str(tmp_path)) == 0
    report = check_json(tmp_path / "dupont", capsys)
    assert report["language"] == "fr"
    annex = [f["id"] for f in report["fields"] if f["annex"]]
    # "| Rubrique | Réponse |" is the table's heading row, not a field.
    assert annex == ["subject", "duration", "nature_purpose", "data_types", "data_subjects"]
    txt = tmp_path / "dpa.txt"
    txt.write_text(
        "DATA PROCESSING AGREEMENT\n\nThis agreement is between Acme Ltd, represented by John "
        "Smith, hereinafter the controller, and Cloudy Inc, hereinafter the processor.\n\n"
        "Clause 1. Scope\nThe processor shall process personal data only on documented\n"
        "instructions from the controller.\n\nClause 2. Confidentiality\nThe processor ensures "
        "that persons authorised to process the\npersonal data are bound by confidentiality.\n\n"
        "Annex I: Details of processing\n\nSubject matter: hosting of the shop\n"
        "Duration: the term of the main agreement\nCategories of data subjects: customers\n"
        "Data protection officer:\nName:\nEmail:\n",
        encoding="utf-8",
    )
    assert cli("template", "import", str(txt), "--id", "acme", "--dir", str(tmp_path)) == 0
    report = check_json(tmp_path / "acme", capsys)
    annex = [f["id"] for f in report["fields"] if f["annex"]]
    assert annex == ["subject", "duration", "data_subjects", "dpo_name", "dpo_email"]
    assert report["source_coverage"] >= 0.97
    assert words("Subject matter")[0] == "subject"


def test_no_annex_imports_and_check_says_so(tmp_path, capsys):
    cli("template", "import", str(seed("003")), "--id", "plain", "--dir", str(tmp_path))
    capsys.readouterr()
    assert cli("template", "check", str(tmp_path / "plain")) == 0
    assert "No annex fields were found" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "content", "argv_id", "said"),
    [
        ("x.rtf", b"{\\rtf1}", "a", "not a document dpabot can import"),
        ("x.txt", b"   \n\n", "a", "holds no text"),
        ("x.docx", b"PK not a zip", "a", "Word file cannot be read"),
        ("x.pdf", b"%PDF-1.4 garbage", "a", "PDF"),
        ("x.txt", b"Artikel 1. Doel\nTekst.", "ibeauty", "packaged template"),
        ("x.txt", b"Artikel 1. Doel\nTekst.", "Bad Id!", "not a template id"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(tmp_path, capsys, name, content, argv_id, said):
    path = tmp_path / name
    path.write_bytes(content)
    assert cli("template", "import", str(path), "--id", argv_id, "--dir", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1
    assert not (tmp_path / argv_id).exists()


def test_existing_folder_is_refused(tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    assert cli("template", "import", str(seed("003")), "--id", "taken", "--dir",
               str(tmp_path)) == 2  # fmt: skip
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "lang", "annex", "customer"),
    [
        (
            "en-addendum-label-lines.txt",
            "en",
            FIVE,
            {"customer_name": "Northwind Ltd", "customer_representative": "Anna Berg"},
        ),
        (
            "fr-convention-label-rows.txt",
            "fr",
            [*FIVE, "dpo_name", "dpo_email"],
            {"customer_name": "Boulangerie Dupuis SRL", "customer_representative": "Marc Dupuis"},
        ),
    ],
)
def test_label_lines_and_label_rows_with_their_answers(
    name, lang, annex, customer, tmp_path, capsys
):
    path = ROOT / "tests" / "corpus" / "dpas" / name
    assert cli("template", "import", str(path), "--id", "dpa", "--dir", str(tmp_path)) == 0
    report = check_json(tmp_path / "dpa", capsys)
    assert report["language"] == lang
    assert [f["id"] for f in report["fields"] if f["annex"]] == annex
    assert report["source_coverage"] >= 0.97
    example = json.loads((tmp_path / "dpa" / "example.json").read_text(encoding="utf-8"))
    assert customer.items() <= example["fields"].items()
    assert example["fields"]["data_subjects"] in (
        "Employees and contractors of the Customer.",
        "clients",
    )


def _seed_as_docx(text: str, path: Path) -> None:
    """The seed as a writer's Word file: a paragraph per sentence-ending or short line."""
    import docx

    doc = docx.Document()
    para = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            if para:
                doc.add_paragraph(para)
            para = ""
            continue
        para = para[:-1] + line if re.search(r"\w-$", para) else f"{para} {line}".strip()
        if re.search(r"[.:;]$", line) or len(line) < 60:
            doc.add_paragraph(para)
            para = ""
    if para:
        doc.add_paragraph(para)
    doc.save(path)


def _seed_as_pdf(text: str, path: Path) -> None:
    """The seed typeset as a PDF with a running foot (Typst, the contract's font)."""
    import typst

    from templates.importer.typst_out import esc

    lines = [
        '#set page(paper: "a4", footer: [DPA #h(1fr) #context counter(page).display()])',
        '#set text(font: "Carlito", size: 10pt)',
        *[esc(raw.strip()) + " \\" if raw.strip() else "" for raw in text.splitlines()],
    ]
    src = path.with_suffix(".typ")
    src.write_text("\n".join(lines), encoding="utf-8")
    fonts = ROOT / "templates" / "fonts"
    path.write_bytes(typst.compile(str(src), font_paths=[str(fonts)]))


@pytest.mark.parametrize("number", ["000", "002", "004"])
@pytest.mark.parametrize("suffix", [".docx", ".pdf"])
def test_seeds_as_word_and_pdf_files(number, suffix, tmp_path, capsys):
    text = seed(number).read_text(encoding="utf-8")
    path = tmp_path / f"seed{suffix}"
    (_seed_as_docx if suffix == ".docx" else _seed_as_pdf)(text, path)
    assert cli("template", "import", str(path), "--id", "s", "--dir", str(tmp_path)) == 0
    report = check_json(tmp_path / "s", capsys)
    annex = [f["id"] for f in report["fields"] if f["annex"]]
    if suffix == ".pdf" and number == "002":
        assert len(set(annex) & set(FIVE)) >= 4  # the data table's intro reads differently
    else:
        assert annex == EXPECTED[number]
    assert report["source_coverage"] >= 0.97
    # Against the seed itself, not only the text read from the file.
    example = json.loads((tmp_path / "s" / "example.json").read_text(encoding="utf-8"))
    example["fields"].update(
        {f: "x" for f in annex if not f.startswith("dpo_") and f not in example["fields"]}
    )
    example["fields"].setdefault("customer_name", "X")
    example["fields"].setdefault("customer_representative", "X")
    example.setdefault("processor", {}).setdefault("name", "P")
    final = render(tmp_path / "s", tmp_path, example, draft=False)
    assert coverage(text, pdftotext(final))[0] >= 0.97


DPAS2 = ROOT / "tests" / "corpus" / "dpas2"
DPAS2_FILES = sorted(p for p in DPAS2.iterdir() if p.suffix in (".docx", ".pdf", ".md", ".txt"))
# Filled in for a final with every field: a value of each type the manifest can ask.
_BY_TYPE = {"email": "fg@klant.be", "phone": "+32 9 234 56 78", "date": "2024-05-17",
            "enterprise_number": "0403.170.701"}  # fmt: skip


@pytest.mark.parametrize("path", DPAS2_FILES, ids=lambda p: p.stem)
def test_dpas_nobody_here_wrote_import_with_the_fields_a_person_sees(path, tmp_path, capsys):
    """Five DPAs written blind (Word numbering, a chromium PDF with running heads, Markdown,
    a dense PDF whose annex table crosses a page, hard-wrapped text): each imports with the
    canonical fields its .json says a careful reader sees, no field that is not one, and keeps
    its text; draft and final render."""
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert cli("template", "import", str(path), "--id", "dpa", "--dir", str(tmp_path)) == 0
    folder = tmp_path / "dpa"
    report = check_json(folder, capsys)
    assert report["language"] == expected["language"]
    annex = [f for f in sorted(report["fields"], key=lambda f: f["number"] or 0) if f["annex"]]
    canonical = [f["id"] for f in annex if not f["id"].startswith("dpa_")]
    assert canonical == expected["annex_fields"]
    assert len(annex) - len(canonical) == len(expected["own_fields"])
    assert report["source_coverage"] >= 0.97
    draft = render(folder, tmp_path, {"fields": {}}, draft=True)
    assert sorted(read_form_fields(draft)) == sorted(f["id"] for f in annex)
    data = json.loads((folder / "example.json").read_text(encoding="utf-8"))
    data.setdefault("processor", {}).setdefault("name", "Verwerker BV")
    data["fields"] = {
        f["id"]: _BY_TYPE.get(f["type"], f"answer {f['id']}") for f in report["fields"]
    }
    text = pdftotext(render(folder, tmp_path, data, draft=False))
    assert all(f"answer {f['id']}" in text for f in annex if f["type"] == "text")


def test_word_numbering_that_comes_from_the_paragraph_styles(tmp_path, capsys):
    """Word's own way to number articles: a list linked to Heading 1 and to a clause style, so
    no number is in the paragraphs; the numbers print as Word shows them."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    doc = docx.Document()
    numbering = doc.part.numbering_part.element
    numbering.insert(0, parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="97">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        '<w:pStyle w:val="Heading1"/><w:lvlText w:val="Artikel %1 –"/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        '<w:pStyle w:val="Lid"/><w:lvlText w:val="%1.%2"/></w:lvl></w:abstractNum>'
    ))  # fmt: skip
    numbering.append(
        parse_xml(f'<w:num {nsdecls("w")} w:numId="97"><w:abstractNumId w:val="97"/></w:num>')
    )
    for style, level in ((doc.styles["Heading 1"], 0), (doc.styles.add_style("Lid", 1), 1)):
        num = style.element.get_or_add_pPr().get_or_add_numPr()
        num.get_or_add_numId().val = 97
        num.get_or_add_ilvl().val = level
    doc.add_paragraph("Verwerkersovereenkomst", style="Title")
    for title in ("Definities", "Beveiliging"):
        doc.add_paragraph(title, style="Heading 1")
        doc.add_paragraph("De verwerker beveiligt de gegevens passend.", style="Lid")
        doc.add_paragraph("De verwerker meldt elk datalek binnen 48 uur.", style="Lid")
    path = tmp_path / "dpa.docx"
    doc.save(path)
    assert cli("template", "import", str(path), "--id", "w", "--dir", str(tmp_path)) == 0
    typ = (tmp_path / "w" / "dpa.typ").read_text(encoding="utf-8")
    assert "== Artikel 2 – Beveiliging" in typ
    assert "2\\.2 De verwerker meldt" in typ


def test_a_ruled_annex_table_that_a_page_break_cuts(tmp_path, capsys):
    """A label table drawn with rules whose first row ends one page and whose other rows start
    the next: one table, its labels the annex's fields (read line by line, a row's label and
    value ran together and the page break split the table)."""
    import typst

    rows = [("Onderwerp van de verwerking", "Hosting van de webwinkel"),
            ("Duur van de verwerking", "De looptijd van de overeenkomst"),
            ("Aard en doel van de verwerking", "Opslag en back-up van bestellingen"),
            ("Soorten persoonsgegevens", ""),
            ("Categorieën van betrokkenen", "Klanten van de webwinkel")]  # fmt: skip
    filler = " ".join(["De verwerker verwerkt de gegevens alleen in opdracht."] * 22)
    cells = ", ".join(f"[{a}], [{b}]" for a, b in rows)
    src = tmp_path / "dpa.typ"
    src.write_text(
        '#set page(paper: "a6")\n#set text(size: 9pt)\n= Verwerkersovereenkomst\n'
        f"Artikel 1. Voorwerp\n\n{filler}\n\n= Bijlage 1 – Specificatie\n\n{filler}\n\n"
        f"#table(columns: (35%, 65%), stroke: 0.5pt, {cells})\n",
        encoding="utf-8",
    )
    pdf = tmp_path / "dpa.pdf"
    pdf.write_bytes(typst.compile(str(src)))
    import pdfplumber

    with pdfplumber.open(pdf) as doc:  # the test's premise: one row, then the others
        assert sorted(len(t.extract()) for p in doc.pages for t in p.find_tables()) == [1, 4]
    assert cli("template", "import", str(pdf), "--id", "r", "--dir", str(tmp_path)) == 0
    report = check_json(tmp_path / "r", capsys)
    assert report["annex_fields"] == FIVE
    example = json.loads((tmp_path / "r" / "example.json").read_text(encoding="utf-8"))
    assert example["fields"]["subject"] == "Hosting van de webwinkel"


def test_a_short_last_page_is_not_taken_for_a_running_head(tmp_path, capsys):
    """The lines of a page of three lines or fewer are its first and its last two: counted
    twice, they looked like a running head on every page and were dropped."""
    import typst

    src = tmp_path / "dpa.typ"
    src.write_text(
        "= Verwerkersovereenkomst\nArtikel 1. Voorwerp\n\nDe verwerker verwerkt de gegevens.\n"
        "#pagebreak()\nOpgemaakt te Gent in twee exemplaren.\n",
        encoding="utf-8",
    )
    pdf = tmp_path / "dpa.pdf"
    pdf.write_bytes(typst.compile(str(src)))
    assert cli("template", "import", str(pdf), "--id", "s", "--dir", str(tmp_path)) == 0
    assert "Opgemaakt te Gent" in (tmp_path / "s" / "source.txt").read_text(encoding="utf-8")
    assert "Opgemaakt te Gent" in (tmp_path / "s" / "dpa.typ").read_text(encoding="utf-8")
