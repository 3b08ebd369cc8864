"""Bring your own DPA: a document (.txt, .md, .docx, .pdf) imported as a template folder.

`import_document` reads the file, finds its title, party paragraphs, articles, signature lines
and annexes, and writes `DIR/ID/` with `dpa.typ` (the source's words as escaped Typst text,
values as data), `manifest.toml` (annex fields mapped to canonical ids), `example.json` (the
source's own values) and `source.txt` (the text read, for `check`). Files in, folder out.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from templates import registry
from templates.documents import render_pdf
from templates.errors import TemplateError
from templates.importer.check import check_template
from templates.importer.language import detect
from templates.importer.manifest_out import example_json, manifest_toml
from templates.importer.model import Block
from templates.importer.paragraphs import paragraphs
from templates.importer.read_docx import read_docx
from templates.importer.read_pdf import read_pdf
from templates.importer.read_text import read_md, read_txt
from templates.importer.structure import structure
from templates.importer.typst_out import typst_document

__all__ = ["SUFFIXES", "check_template", "import_document", "read_document"]

SUFFIXES = (".txt", ".md", ".docx", ".pdf")
_HEIGHTS = {"dpo_name": 1.1, "dpo_phone": 1.1, "dpo_email": 1.1}


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_document(path: Path) -> tuple[list[Block], str]:
    """The document's blocks (paragraphs, headings, items, tables) and its plain text."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise TemplateError(
            f"{path.name} is not a document dpabot can import; use a .docx, .pdf, .txt or .md file."
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"The file {path} cannot be read ({exc.strerror}).") from exc
    if suffix == ".txt":
        text = _decode(data)
        blocks = paragraphs(read_txt(text))
    elif suffix == ".md":
        blocks = read_md(_decode(data))
        text = ""
    elif suffix == ".docx":
        blocks = read_docx(data)
        text = ""
    else:
        lines = read_pdf(data)
        text = "\n".join(b.text if b.kind == "line" else "" for b in lines)
        blocks = paragraphs(lines)
    if not text:
        text = "\n\n".join(
            "\n".join(" | ".join(r) for r in b.rows) if b.kind == "table" else b.text
            for b in blocks
        )
    if not any(b.text.strip() or b.rows for b in blocks):
        raise TemplateError(f"{path.name} holds no text to import.")
    return blocks, text


def import_document(path: Path, template_id: str, out_dir: Path) -> Path:
    """Import a DPA as the template folder `out_dir/template_id`; the folder's path."""
    if not registry.is_id(template_id):
        raise TemplateError(
            f"'{template_id}' is not a template id; use lower-case letters, digits, '-' and '_'."
        )
    if template_id in registry.packaged_ids():
        raise TemplateError(f"'{template_id}' is the id of a packaged template; choose another.")
    target = out_dir / template_id
    if target.exists():
        raise TemplateError(f"{target} already exists; remove it or choose another id.")
    blocks, text = read_document(path)
    lang = detect(text)
    doc = structure(blocks, template_id)
    tenant: dict[str, str] = {}
    customer: dict[str, str] = {}
    for role, values in doc.signed.items():
        keys = {k: f"customer_{k}" if role == "controller" else k for k in values}
        (customer if role == "controller" else tenant).update(
            {keys[k]: v for k, v in values.items()}
        )
    for party in doc.parties:
        (customer if party.role == "controller" else tenant).update(party.values)
    typ = typst_document(
        template_id,
        doc.title,
        lang,
        doc.items,
        processor_in_text=any(p.role == "processor" for p in doc.parties),
        heights=_HEIGHTS,
    )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{template_id}-", dir=out_dir))
    except OSError as exc:
        raise TemplateError(f"The folder {out_dir} cannot be written ({exc.strerror}).") from exc
    try:
        (work / "dpa.typ").write_text(typ, encoding="utf-8")
        (work / "manifest.toml").write_text(
            manifest_toml(template_id, doc.title, lang, tenant, doc.fields, path.name),
            encoding="utf-8",
        )
        (work / "example.json").write_text(
            example_json(tenant, customer, doc.fields), encoding="utf-8"
        )
        (work / "source.txt").write_text(text, encoding="utf-8")
        _renders(work)
        work.rename(target)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise TemplateError(f"The folder {target} cannot be written ({exc.strerror}).") from exc
    except TemplateError:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target


def _renders(folder: Path) -> None:
    """The new folder renders as a draft (every word escaped, every value data), or no folder."""
    try:
        render_pdf(str(folder), {"fields": {}}, draft=True)
    except TemplateError as exc:
        raise TemplateError(
            f"The imported document does not render ({exc}); nothing written."
        ) from exc
