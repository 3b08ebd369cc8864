"""Reader of Word files (.docx, python-docx) into blocks: headings, numbered items, tables."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from templates.errors import TemplateError
from templates.importer.model import Block

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
          (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]  # fmt: skip


def _roman(n: int) -> str:
    out = ""
    for value, letters in _ROMAN:
        while n >= value:
            out += letters
            n -= value
    return out


def _format(n: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return chr(ord("a") + (n - 1) % 26)
    if fmt == "upperLetter":
        return chr(ord("A") + (n - 1) % 26)
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    return str(n)


class _Numbering:
    """Word's list numbering turned into the labels a reader sees printed ("1.", "2.1", "a)")."""

    def __init__(self, doc: Any) -> None:
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}
        self.counters: dict[str, list[int]] = {}
        # A level linked to a paragraph style (<w:pStyle> in <w:lvl>): numId → style id → ilvl.
        self.style_levels: dict[str, dict[str, int]] = {}
        try:
            root = doc.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        linked: dict[str, dict[str, int]] = {}
        for a in root.iter(f"{_W}abstractNum"):
            lv: dict[int, tuple[str, str, int]] = {}
            links: dict[str, int] = {}
            for lvl in a.iter(f"{_W}lvl"):
                ilvl = int(lvl.get(f"{_W}ilvl", "0"))
                style = lvl.find(f"{_W}pStyle")
                if style is not None:
                    links[style.get(f"{_W}val", "")] = ilvl
                fmt = lvl.find(f"{_W}numFmt")
                text = lvl.find(f"{_W}lvlText")
                start = lvl.find(f"{_W}start")
                lv[ilvl] = (
                    fmt.get(f"{_W}val", "decimal") if fmt is not None else "decimal",
                    text.get(f"{_W}val", "") if text is not None else "",
                    int(start.get(f"{_W}val", "1")) if start is not None else 1,
                )
            abstract[a.get(f"{_W}abstractNumId", "")] = lv
            linked[a.get(f"{_W}abstractNumId", "")] = links
        for num in root.iter(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            if ref is not None:
                self.levels[num.get(f"{_W}numId", "")] = abstract.get(ref.get(f"{_W}val", ""), {})
                self.style_levels[num.get(f"{_W}numId", "")] = linked.get(
                    ref.get(f"{_W}val", ""), {}
                )

    def label(self, num_id: str, ilvl: int) -> tuple[str, bool]:
        """The printed label of the next item, and whether it is a bullet."""
        levels = self.levels.get(num_id, {})
        fmt, text, _start = levels.get(ilvl, ("bullet", "•", 1))
        if fmt == "bullet" or fmt == "none":
            return "", fmt == "bullet"
        counts = self.counters.setdefault(num_id, [0] * 9)
        if counts[ilvl] == 0:
            counts[ilvl] = levels.get(ilvl, ("", "", 1))[2] - 1
        counts[ilvl] += 1
        for deeper in range(ilvl + 1, 9):
            counts[deeper] = 0

        def sub(m: re.Match[str]) -> str:
            k = int(m.group(1)) - 1
            n = counts[k] or levels.get(k, ("", "", 1))[2]
            return _format(n, levels.get(k, ("decimal", "", 1))[0])

        return re.sub(r"%(\d)", sub, text), False


def _num_pr(paragraph: Any, numbering: _Numbering) -> tuple[str, int] | None:
    """The list (numId) and level of a paragraph: its own <w:numPr>, else the one of its style
    or of a style it is based on (Word's headings and clause styles are numbered this way, with
    no number in the text); None when it is not numbered or numbering is switched off (numId 0).
    """
    own = paragraph._p.find(f"{_W}pPr/{_W}numPr")
    num_id: str | None = None
    ilvl: int | None = None
    if own is not None:
        nid, lvl = own.find(f"{_W}numId"), own.find(f"{_W}ilvl")
        num_id = nid.get(f"{_W}val") if nid is not None else None
        ilvl = int(lvl.get(f"{_W}val", "0")) if lvl is not None else None
    style = paragraph.style
    style_id = style.style_id if style is not None else ""
    seen: set[int] = set()
    while style is not None and num_id is None and id(style) not in seen:
        seen.add(id(style))
        num = style.element.find(f"{_W}pPr/{_W}numPr")
        if num is not None:
            nid, lvl = num.find(f"{_W}numId"), num.find(f"{_W}ilvl")
            num_id = nid.get(f"{_W}val") if nid is not None else None
            if ilvl is None and lvl is not None:
                ilvl = int(lvl.get(f"{_W}val", "0"))
        style = style.base_style
    if num_id is None or num_id == "0":
        return None
    if ilvl is None:
        ilvl = numbering.style_levels.get(num_id, {}).get(style_id, 0)
    return num_id, ilvl


def _heading_level(style: str) -> int:
    s = style.lower()
    if s in ("title", "titel", "titre"):
        return 1
    m = re.match(r"(?:heading|kop|titre|überschrift|titolo)\s*(\d)", s)
    return int(m.group(1)) + 1 if m else 0


def read_docx(data: bytes) -> list[Block]:
    """Paragraphs, headings, numbered and bulleted items, tables and page breaks, in order."""
    import docx  # python-docx: only this command reads Word files
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        doc = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise TemplateError(f"The Word file cannot be read ({exc}).") from exc
    except Exception as exc:  # broad: python-docx raises many types on damaged packages
        raise TemplateError(f"The Word file cannot be read ({type(exc).__name__}).") from exc
    numbering = _Numbering(doc)
    out: list[Block] = []
    for child in doc.element.body.iterchildren():
        if child.tag == f"{_W}tbl":
            rows: list[list[str]] = []
            for row in Table(child, doc).rows:
                cells: list[str] = []
                seen: set[int] = set()
                for cell in row.cells:
                    if id(cell._tc) in seen:
                        continue  # a merged cell repeats itself
                    seen.add(id(cell._tc))
                    cells.append(" ".join(p.text.strip() for p in cell.paragraphs).strip())
                rows.append(cells)
            if rows:
                out.append(Block("table", rows=rows))
            continue
        if child.tag != f"{_W}p":
            continue
        p = Paragraph(child, doc)
        xml_breaks = child.findall(f".//{_W}br")
        before = child.find(f"{_W}pPr/{_W}pageBreakBefore")
        if before is not None and before.get(f"{_W}val", "true") not in ("0", "false"):
            out.append(Block("break"))
        text = p.text.replace("\t", " ").strip()
        style = p.style.name if p.style is not None and p.style.name else ""
        num = _num_pr(p, numbering) if text else None
        if text:
            level = _heading_level(style)
            label, bullet = "", False
            if num is not None:
                label, bullet = numbering.label(*num)
            if label:
                text = f"{label} {text}"
            if level:
                out.append(Block("h", text, level=level))
            elif bullet or style.lower().startswith(("list bullet", "lijstopsomming")):
                out.append(Block("li", text, level=num[1] if num is not None else 0))
            else:
                out.append(Block("p", text))
        if any(b.get(f"{_W}type") == "page" for b in xml_breaks):
            out.append(Block("break"))
    return out
