"""Document templates: data checks and Typst rendering of draft and final DPA PDFs."""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import json
import secrets
import shutil
import tempfile
import threading
import unicodedata
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import typst

from handlers.text.validate import email_ok, enterprise_number_ok
from templates import _pdf_forms, registry
from templates._pdf_forms import read_form_fields
from templates._pdf_signature_fields import SigBox, add_signature_fields
from templates.errors import TemplateError
from templates.manifest import FieldSpec, Manifest, list_templates, load_manifest

__all__ = [
    "SIGNATURE_FIELDS",
    "FieldSpec",
    "Manifest",
    "TemplateError",
    "list_templates",
    "load_manifest",
    "read_form_fields",
    "render_pdf",
    "unprintable",
]

DOCUMENTS_DIR = registry.PACKAGED_DIR
FONTS_DIR = Path(__file__).parent / "fonts"
FORM_FONT = FONTS_DIR / "Carlito-Regular.ttf"
SIGNATURE_FIELDS = ("Processor", "Customer")
PROCESSOR_KEYS = ("name", "enterprise_number", "representative", "representative_function", "place")
LANGUAGES = ("nl", "fr", "en")
# No sign_date: a fixed creation date keeps the bytes of a render reproducible.
FALLBACK_TIMESTAMP = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@cache
def _printable_codepoints() -> frozenset[int]:
    """Every character the shipped font can draw (all Carlito styles share one repertoire)."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(FORM_FONT), lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


@cache
def _ascii_printable(allowed: frozenset[int]) -> bool:
    return all(code in allowed for code in range(0x20, 0x7F))


def unprintable(value: str) -> list[str]:
    """Characters of value the contract's font cannot print (emoji, Hebrew, Arabic, controls)."""
    allowed = _printable_codepoints()
    # Most values are plain ASCII text, which the fonts print: no per-character look-ups.
    if value.isascii() and value.isprintable() and _ascii_printable(allowed):
        return []
    return sorted(
        {
            ch
            for ch in value
            if ch not in "\n\t"
            # Fonts map U+0000 and other controls to an empty glyph: never print those either.
            and (ord(ch) not in allowed or unicodedata.category(ch) == "Cc")
        }
    )


def _check_value(manifest: Manifest, spec: FieldSpec, value: str) -> None:
    label = spec.label(manifest.language)
    bad = unprintable(value)
    if bad:
        shown = ", ".join(f"'{ch}' (U+{ord(ch):04X})" for ch in bad[:5])
        raise TemplateError(
            f"The field '{spec.id}' ({label}) contains characters the contract's font cannot "
            f"print: {shown}; write it without them."
        )
    if spec.type == "enterprise_number" and not enterprise_number_ok(value):
        raise TemplateError(
            f"The field '{spec.id}' ({label}) is not a valid enterprise number: '{value}'."
        )
    if spec.type == "email" and not email_ok(value):
        raise TemplateError(f"The field '{spec.id}' ({label}) is not an email address: '{value}'.")
    if spec.type == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise TemplateError(
                f"The field '{spec.id}' ({label}) is not a date (YYYY-MM-DD): '{value}'."
            ) from None


# The top level of the document data (bot/domain/data.py document_data makes it).
DATA_KEYS = ("processor", "fields", "version", "draft", "amendments")


def prepare_data(template_id: str, data: dict[str, Any], *, draft: bool) -> dict[str, Any]:
    """Check `data` against the manifest; return the exact JSON object the Typst document gets."""
    manifest = load_manifest(template_id)
    if not isinstance(data, dict) or not isinstance(data.get("fields", {}), dict):
        raise TemplateError(
            "The document data must be an object with 'processor' and 'fields' objects."
        )
    unknown_keys = sorted(set(data) - set(DATA_KEYS))
    if unknown_keys:
        key = unknown_keys[0]
        where = (
            f"'{key}' is a field of template '{template_id}': put it under 'fields'"
            if key in manifest.fields
            else f"'{key}' is not a key of the document data"
        )
        raise TemplateError(
            f"{where}. The data must be an object like "
            '{"processor": {"name": "…"}, "fields": {"customer_name": "…"}} '
            f"(its keys: {', '.join(DATA_KEYS)})."
        )
    processor_in = data.get("processor") or {}
    if not isinstance(processor_in, dict):
        raise TemplateError("The document data's 'processor' must be an object.")
    processor: dict[str, str] = {}
    for key in PROCESSOR_KEYS:
        value = processor_in.get(key)
        if value is not None and not isinstance(value, str):
            raise TemplateError(
                f"The processor field '{key}' must be text, not {type(value).__name__}."
            )
        processor[key] = (value or "").strip() or manifest.tenant.get(key, "")
    unknown = sorted(set(processor_in) - set(PROCESSOR_KEYS))
    if unknown:
        raise TemplateError(
            f"The processor field '{unknown[0]}' is not known; use {', '.join(PROCESSOR_KEYS)}."
        )
    if not processor["name"] and not draft:
        raise TemplateError("The processor field 'name' is required.")

    fields: dict[str, str] = {}
    for fid, value in data.get("fields", {}).items():
        if fid not in manifest.fields:
            raise TemplateError(f"The field '{fid}' is not a field of template '{template_id}'.")
        if value is not None and not isinstance(value, str):
            raise TemplateError(f"The field '{fid}' must be text, not {type(value).__name__}.")
        value = (value or "").strip()
        if value:
            _check_value(manifest, manifest.fields[fid], value)
            fields[fid] = value
    if not draft:
        missing = [
            fid for fid, spec in manifest.fields.items() if spec.required and not fields.get(fid)
        ]
        if missing:
            spec = manifest.fields[missing[0]]
            raise TemplateError(
                f"The field '{spec.id}' ({spec.label(manifest.language)}) is required "
                f"for the final document but is empty."
            )
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise TemplateError("The document data's 'version' must be a whole number of at least 1.")
    amendments = []
    for a in data.get("amendments") or []:
        # Approved wording of one article ({article, title, text}): printed as text, never markup.
        if not isinstance(a, dict) or not isinstance(a.get("text"), str) or not a["text"].strip():
            raise TemplateError("Each amendment must be an object with a non-empty 'text'.")
        bad = unprintable(a["text"])
        if bad:
            raise TemplateError(
                f"An amendment uses characters the contract's font cannot print: {' '.join(bad)}."
            )
        amendments.append(
            {
                "article": str(a.get("article") or ""),
                "title": str(a.get("title") or ""),
                "text": a["text"].strip(),
            }
        )
    return {
        "processor": processor,
        "fields": fields,
        "version": version,
        "draft": draft,
        "amendments": amendments,
    }


class _Compiled:
    """One cached Typst compiler per template; the lock serialises use (it is stateful).

    The contract data reaches the document as a file, not as ``sys.inputs``: Typst's incremental
    compilation keeps everything that does not read the data, and any change of ``sys.inputs``
    throws all of it away (a draft compiles in about 20 ms instead of 85 ms). The file lives in
    a private compile root holding a copy of the documents folder, one per compiler.
    """

    def __init__(self, manifest: Manifest) -> None:
        self.lock = threading.Lock()
        self.root = Path(tempfile.mkdtemp(prefix="dpabot-typst-"))
        atexit.register(shutil.rmtree, self.root, ignore_errors=True)
        # A copy (a few hundred KB of markup): Typst wants the main file really inside its root.
        # The shared library and the template's own folder, named by its id (the documents
        # read their example data from "/<id>/…"), wherever the folder lives.
        shutil.copytree(DOCUMENTS_DIR / "_lib", self.root / "_lib")
        # Only the folder's own files: a link would be copied as the file it points to.
        registry.check_folder(manifest.directory)
        shutil.copytree(manifest.directory, self.root / manifest.id, symlinks=True)
        self.data_file = self.root / DATA_FILE.lstrip("/")
        main = self.root / manifest.id / manifest.document
        self.compiler = typst.Compiler(
            str(main),
            # Every template imports /_lib/dpa.typ and reads /input.json from this root.
            root=str(self.root),
            font_paths=[str(FONTS_DIR)],
            ignore_system_fonts=True,
        )


# Where the document finds its data, from the compile root (sys.inputs names it, unchanging).
DATA_FILE = "/input.json"


def text_version(template_id: str) -> str:
    """A digest of the template's text (its folder and the shared library, every file): a
    changed word is a new version, and a new compiler reads it. Keyed by the reference as
    given: an id or a folder path both name one folder per process."""
    manifest = load_manifest(template_id)
    # Checked on every use, not only when registered: the folder may have changed since (a
    # link or a pipe read here would print another file, or hang).
    registry.check_folder(manifest.directory)
    digest = hashlib.sha256()
    for name, folder in (("_lib", DOCUMENTS_DIR / "_lib"), (manifest.id, manifest.directory)):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(f"{name}/{path.relative_to(folder)}".encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@lru_cache(maxsize=8)
def _compiled_version(template_id: str, version: str) -> _Compiled:
    return _Compiled(load_manifest(template_id))


def _compiled(template_id: str) -> _Compiled:
    return _compiled_version(template_id, text_version(template_id))


def _timestamp(fields: dict[str, str]) -> dt.datetime:
    if "sign_date" in fields:
        return dt.datetime.combine(dt.date.fromisoformat(fields["sign_date"]), dt.time(), dt.UTC)
    return FALLBACK_TIMESTAMP


def _compile(
    template_id: str, doc: dict[str, Any], *, draft: bool, selectors: tuple[str, ...]
) -> tuple[bytes, list[list[dict[str, Any]]]]:
    """The PDF of `doc` and, per selector, what the document's query found."""
    payload = json.dumps(doc, ensure_ascii=False, sort_keys=True)
    compiled = _compiled(template_id)
    try:
        with compiled.lock:
            compiled.data_file.write_text(payload, encoding="utf-8")
            pdf = compiled.compiler.compile(
                format="pdf",
                sys_inputs={"data-file": DATA_FILE},
                timestamp=_timestamp(doc["fields"]),
                pdf_standards=[] if draft else ["a-2b"],
            )
            found = [json.loads(compiled.compiler.query(sel, field="value")) for sel in selectors]
    except typst.TypstError as exc:
        raise TemplateError(f"Template '{template_id}' failed to render: {exc.message}.") from exc
    assert isinstance(pdf, bytes)
    return pdf, found


def _with_form_fields(
    manifest: Manifest, pdf: bytes, found: list[dict[str, Any]], values: dict[str, str]
) -> bytes:
    boxes = [
        _pdf_forms.FieldBox(**{k: b[k] for k in ("key", "page", "x", "y", "w", "h")}) for b in found
    ]
    tooltips = {f.id: f.label(manifest.language) for f in manifest.annex_fields}
    return _pdf_forms.add_text_fields(pdf, boxes, values, tooltips, FORM_FONT)


def render_pdf(
    template_id: str, data: dict[str, Any], *, draft: bool, unique: bool = False
) -> bytes:
    """Render a contract to PDF.

    draft=True: fillable, prefilled Bijlage 1 text fields. draft=False: PDF/A-2b with exactly two
    empty invisible signature fields, `Processor` and `Customer`. unique=True (the final that is
    mailed): a random instance id, so the same text never gives the same bytes and the PDF's
    fingerprint cannot be computed by someone who has not received it.
    """
    manifest = load_manifest(template_id)
    doc = prepare_data(template_id, data, draft=draft)
    selector = "<formfield>" if draft else "<signature-page>"
    selectors = (selector,) if draft else (selector, "<signature-box>")
    pdf, (found, *rest) = _compile(template_id, doc, draft=draft, selectors=selectors)
    sig_boxes = rest[0] if rest else []
    if draft:
        return _with_form_fields(manifest, pdf, found, doc["fields"])
    if len(found) != 1:
        raise TemplateError(f"Template '{template_id}' must mark exactly one <signature-page>.")
    page = int(found[0]["page"])
    # Each party's box on the signature page makes its field visible there (one per field).
    sig_rects = {
        b["sig"]: SigBox(b["x"], b["y"], b["w"], b["h"])
        for b in sig_boxes
        if b.get("sig") in SIGNATURE_FIELDS and int(b["page"]) == page
    }
    return add_signature_fields(
        pdf,
        page,
        SIGNATURE_FIELDS,
        instance_id=secrets.token_bytes(16) if unique else None,
        boxes=sig_rects if len(sig_rects) == len(SIGNATURE_FIELDS) else None,
    )


def check_fields(template_id: str, fields: dict[str, str]) -> None:
    """Raise TemplateError for a value render_pdf would refuse (unknown field, bad value)."""
    manifest = load_manifest(template_id)
    for fid, value in fields.items():
        if fid not in manifest.fields:
            raise TemplateError(f"The field '{fid}' is not a field of template '{template_id}'.")
        if value.strip():
            _check_value(manifest, manifest.fields[fid], value.strip())
