"""The Typst document of an imported template: every word of the source as escaped text,
values and annex answers as data (pure)."""

from __future__ import annotations

import json
import re

from templates.importer.items import Item
from templates.importer.language import WORDS
from templates.importer.parties import Segment

_SPECIAL = re.compile(r"([\\#*_`$<>@\[\]~/=+{}\"'\-])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def esc(text: str) -> str:
    """Text as Typst markup that prints exactly that text (no markup, no shorthand)."""
    text = _CONTROL.sub(" ", text).replace("\n", " ")
    text = _SPECIAL.sub(r"\\\1", text)
    text = text.replace("..", ".\\.")  # "..." would become an ellipsis glyph
    return re.sub(r"^(\s*\d+)\.", r"\1\\.", text)


def string(text: str) -> str:
    """A Typst string literal."""
    return json.dumps(_CONTROL.sub(" ", text), ensure_ascii=False)


def _ref(seg: tuple[str, str]) -> str:
    prefix, key = seg
    if prefix == "P" and key == "name":
        return "#{show-val(processor-name)}"
    if prefix == "F" and key == "customer_name":
        return "#{show-val(customer-name)}"
    return f'#{{show-val(val({prefix}, "{key}"))}}'


def _segments(segments: list[Segment]) -> str:
    return "".join(esc(s) if isinstance(s, str) else _ref(s) for s in segments)


def _parties(lang: str, with_processor: bool) -> str:
    w = WORDS[lang]
    lines = [f"{esc(w['between'])}", ""]

    def party(role: str, name: str, src: str, number: str, rep: str, addr: str | None) -> None:
        lines.append(
            f"*{esc(role)}*: #{{show-val({name})}}#{{"
            f'let n = val({src}, "{number}"); if n != "" [, {esc(w["number"])} #n]}}'
            + (
                f'#{{let a = val({src}, "{addr}"); if a != "" [, {esc(w["seat"])} #a]}}'
                if addr
                else ""
            )
            + f', {esc(w["represented"])} #{{show-val(val({src}, "{rep}"))}}.'
        )
        lines.append("")

    party(w["controller"], "customer-name", "F", "customer_enterprise_number",
          "customer_representative", "customer_address")  # fmt: skip
    if with_processor:
        party(w["processor"], "processor-name", "P", "enterprise_number", "representative", None)
    return "\n".join(lines)


def _signature(lang: str) -> str:
    w = WORDS[lang]
    return f"""#signature-block(
  (
    (role: {string(w["controller"])}, name: customer-name,
     person: val(F, "customer_representative"),
     function: val(F, "customer_representative_function"), place: val(F, "place"), date: sign-date),
    (role: {string(w["processor"])}, name: processor-name, person: val(P, "representative"),
     function: val(P, "representative_function"), place: val(P, "place"), date: sign-date),
  ),
  labels: (name: {string(w["name"])}, function: {string(w["function"])},
           place: {string(w["place"])}, date: {string(w["date"])}),
  note: if not draft [{esc(w["esign"])}],
)"""


def _table(rows: list[list[str]]) -> str:
    n = max((len(r) for r in rows), default=1)
    cells: list[str] = []
    for r in rows:
        cells.extend(f"[{esc(c)}]" for c in [*r, *[""] * (n - len(r))])
    return f"#table(columns: {n}, inset: 5pt, stroke: 0.5pt + luma(140), {', '.join(cells)})"


def typst_document(
    template_id: str,
    title: str,
    lang: str,
    items: list[Item],
    *,
    processor_in_text: bool,
    heights: dict[str, float],
) -> str:
    """The whole dpa.typ of an imported template."""
    w = WORDS[lang]
    head = f"""// Imported by `dpabot template import`: the source's words as text, values as data.
// Contract data only ever arrives as strings and is inserted as text, never as markup.

#import "/_lib/dpa.typ": *

#let data = load-data("/{template_id}/example.json")
#let P = data.at("processor", default: (:))
#let F = data.at("fields", default: (:))
#let draft = data.at("draft", default: false) == true
#let processor-name = val(P, "name")
#let customer-name = val(F, "customer_name")
#let sign-date = date-val(F, "sign_date")

#show: dpa-page.with(
  processor-name: processor-name,
  title: {string(title or "DPA")},
  draft: draft,
  lang: {string(lang)},
  page-word: {string(w["page"])},
  of-word: {string(w["of"])},
  draft-note: {string(w["draft"])},
)
"""
    out = [head]
    for it in items:
        if it.kind == "title":
            out.append(f"= {esc(it.text)}\n")
        elif it.kind == "parties":
            out.append(_parties(lang, not processor_in_text))
        elif it.kind == "h":
            out.append(f"{'=' * it.level} {esc(it.text)}\n")
        elif it.kind == "annex":
            out.append(f"#pagebreak()\n= {esc(it.text)}\n")
        elif it.kind == "li":
            out.append(f"{'  ' * it.level}- {esc(it.text)}")
        elif it.kind == "table":
            out.append(_table(it.rows) + "\n")
        elif it.kind == "break":
            out.append("#pagebreak(weak: true)\n")
        elif it.kind == "signature":
            out.append(_signature(lang) + "\n")
        elif it.kind == "field":
            fid = it.field_id
            out.append(
                f"#block(above: 1.2em, below: 0.5em, sticky: true)[*{esc(it.text)}*]\n"
                f'#annex-field("{fid}", val(F, "{fid}"), draft: draft, '
                f"height: {heights.get(fid, 2.2)}cm)\n"
            )
        elif it.segments:
            out.append(_segments(it.segments) + "\n")
        elif it.bold:
            out.append(f"#strong[{esc(it.text)}]\n")
        else:
            out.append(esc(it.text) + "\n")
    return "\n".join(out).rstrip() + "\n"
