"""`template check`: a template folder rendered as draft and final, its fields and questions in
nl, fr and en, and how much of its source's text the final keeps in order."""

from __future__ import annotations

import json
from typing import Any

from templates.documents import LANGUAGES, load_manifest, read_form_fields, render_pdf
from templates.errors import TemplateError
from templates.importer.coverage import coverage, pdf_text

TARGET = 0.97


def _pages(pdf: bytes) -> int:
    import pikepdf

    with pikepdf.open(__import__("io").BytesIO(pdf)) as doc:
        return len(doc.pages)


def check_template(ref: str) -> dict[str, Any]:
    """The report of one template (by id or folder path)."""
    manifest = load_manifest(ref)
    folder = manifest.directory
    draft = render_pdf(ref, {"fields": {}}, draft=True)
    example_file = folder / "example.json"
    if example_file.is_file():
        example = json.loads(example_file.read_text(encoding="utf-8"))
    elif manifest.examples:
        example = json.loads((folder / manifest.examples[0].data).read_text(encoding="utf-8"))
    else:
        example = {"fields": {}}
    if not (example.get("processor") or {}).get("name") and not manifest.tenant.get("name"):
        example = {**example, "processor": {**(example.get("processor") or {}), "name": "—"}}
    # Required fields the source left empty get a mark, so the final can be laid out.
    filled = dict(example.get("fields") or {})
    for fid, spec in manifest.fields.items():
        if spec.required and not filled.get(fid):
            filled[fid] = "…"
    example = {**example, "fields": filled}
    try:
        final = render_pdf(ref, example, draft=False)
    except TemplateError as exc:
        raise TemplateError(f"The final document does not render with its example: {exc}") from exc
    fields = [
        {
            "id": f.id,
            "annex": f.annex,
            "number": f.number,
            "type": f.type,
            "required": f.required,
            "label": {lang: f.label(lang) for lang in LANGUAGES},
            "question": {lang: f.question.get(lang, "") for lang in LANGUAGES},
            "missing_languages": [lang for lang in LANGUAGES if not f.labels.get(lang)],
        }
        for f in manifest.fields.values()
    ]
    report: dict[str, Any] = {
        "id": manifest.id,
        "folder": str(folder),
        "language": manifest.language,
        "fields": fields,
        "annex_fields": [f.id for f in manifest.annex_fields],
        "draft_pages": _pages(draft),
        "final_pages": _pages(final),
        "draft_form_fields": sorted(read_form_fields(draft)),
        "source_coverage": None,
        "missing_passages": [],
        "target": TARGET,
    }
    source = folder / "source.txt"
    if source.is_file():
        ratio, gaps = coverage(source.read_text(encoding="utf-8"), pdf_text(final))
        report["source_coverage"] = round(ratio, 4)
        report["missing_passages"] = gaps
    return report


def report_text(report: dict[str, Any]) -> str:
    lines = [f"Template {report['id']} ({report['folder']}), language {report['language']}."]
    annex = [f for f in report["fields"] if f["annex"]]
    if annex:
        lines.append(f"Annex fields ({len(annex)}):")
    else:
        lines.append("No annex fields were found (the document has no annex with labels).")
    for f in sorted(annex, key=lambda f: f["number"] or 0) + [
        f for f in report["fields"] if not f["annex"]
    ]:
        lines.append(
            f"  {f['number'] or '-'}. {f['id']}{' (annex)' if f['annex'] else ''}: "
            + " | ".join(f"{k} {v}" for k, v in f["label"].items())
        )
        for lang, q in f["question"].items():
            if q:
                lines.append(f"       {lang}: {q}")
        if f["missing_languages"]:
            lines.append(f"       no label in: {', '.join(f['missing_languages'])}")
    lines.append(
        f"Draft: {report['draft_pages']} pages, form fields: "
        f"{', '.join(report['draft_form_fields']) or 'none'}. Final: {report['final_pages']} pages."
    )
    cov = report["source_coverage"]
    if cov is None:
        lines.append("No source.txt: source coverage not measured.")
    else:
        verdict = "meets" if cov >= TARGET else "is BELOW"
        lines.append(
            f"Source coverage: {cov:.3f} of the source's words in order ({verdict} {TARGET})."
        )
        for gap in report["missing_passages"][:5]:
            lines.append(f"  missing: {gap[:160]}")
    return "\n".join(lines)


__all__ = ["TARGET", "check_template", "report_text"]
