"""Reader of PDF files (pdfplumber) into lines: running heads and page numbers dropped, gaps
between paragraphs kept as blank lines."""

from __future__ import annotations

import io
import itertools
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from templates.errors import TemplateError
from templates.importer.model import Block

_PAGE_NUMBER = re.compile(
    r"^\s*(?:(?:pagina|page|p\.|blz\.?|seite)\s*)?\d{1,3}\s*(?:(?:/|van|of|sur|de|von)\s*\d{1,3})?\s*$",
    re.IGNORECASE,
)


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", text.strip().lower())


def _page_lines(page: Any) -> list[tuple[str, float, float]]:
    """(text, top, bottom) of each line of one page."""
    lines = page.extract_text_lines(layout=False, strip=True, return_chars=False)
    # Some producers (Typst) map the hyphen glyph to a soft hyphen: read it as printed.
    return [
        (ln["text"].replace("\u00ad", "-"), float(ln["top"]), float(ln["bottom"]))
        for ln in lines
        if ln["text"]
    ]


@dataclass
class _Table:
    """A ruled table of one page: its rows of cells, and where it is."""

    rows: list[list[str]]
    top: float
    bottom: float


def _cell(text: str | None) -> str:
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", (text or "").replace("\u00ad", "-"))
    return " ".join(text.split())


def _page_tables(page: Any) -> list[_Table]:
    """Tables drawn with rules (label | value rows of an annex, lists of sub-processors) with
    two or more columns: a row's cells stay apart instead of running together as one line."""
    out = []
    for table in page.find_tables():
        rows = [[_cell(c) for c in row] for row in table.extract()]
        rows = [r for r in rows if any(r)]
        if rows and max(len(r) for r in rows) >= 2:
            out.append(_Table(rows, float(table.bbox[1]), float(table.bbox[3])))
    return out


def _inside(top: float, bottom: float, tables: list[_Table]) -> _Table | None:
    middle = (top + bottom) / 2
    return next((t for t in tables if t.top <= middle <= t.bottom), None)


def read_pdf(data: bytes) -> list[Block]:
    """Lines of every page in reading order; blank lines where the gap shows a new paragraph."""
    import pdfplumber  # only this command reads PDFs
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [_page_lines(page) for page in pdf.pages]
            tables = [_page_tables(page) if lines else [] for page, lines in zip(
                pdf.pages, pages, strict=True)]  # fmt: skip
    except (PDFSyntaxError, ValueError, KeyError, TypeError) as exc:
        raise TemplateError(f"The PDF cannot be read ({type(exc).__name__}).") from exc
    except Exception as exc:  # broad: pdfminer raises many types on damaged files
        raise TemplateError(f"The PDF cannot be read ({type(exc).__name__}).") from exc
    if not any(pages):
        raise TemplateError(
            "The PDF has no text layer (a scanned document?); import its text as .txt or .docx."
        )
    # Running heads and feet: the same line (numbers aside) at the top or bottom of most pages.
    edges: Counter[str] = Counter()
    for lines in pages:
        # Once a page: on a page of three lines or fewer the first two are also the last two.
        edges.update({_shape(text) for text, _, _ in lines[:2] + lines[-2:]})
    running = {s for s, n in edges.items() if len(pages) >= 2 and n >= max(2, len(pages) / 2)}
    kept_pages = [
        [
            (t, top, bottom)
            for i, (t, top, bottom) in enumerate(lines)
            if not (
                (i < 2 or i >= len(lines) - 2) and (_shape(t) in running or _PAGE_NUMBER.match(t))
            )
        ]
        for lines in pages
    ]
    tables = _whole_tables(kept_pages, tables)
    out: list[Block] = []
    for kept, page_tables in zip(kept_pages, tables, strict=True):
        gaps = [b[1] - a[2] for a, b in itertools.pairwise(kept)]
        usual = statistics.median(gaps) if gaps else 0.0
        placed: set[int] = set()
        for i, (text, top, bottom) in enumerate(kept):
            table = _inside(top, bottom, page_tables)
            if table is not None:
                if id(table) not in placed:  # the table where its first line was
                    placed.add(id(table))
                    out += [Block("blank"), Block("table", rows=table.rows), Block("blank")]
                continue
            if i and gaps[i - 1] > max(usual * 1.8, usual + 4):
                out.append(Block("blank"))
            out.append(Block("line", text))
        out.append(Block("blank"))
    return _joined_tables(out)


def _whole_tables(
    pages: list[list[tuple[str, float, float]]], tables: list[list[_Table]]
) -> list[list[_Table]]:
    """The tables kept: those of two rows or more, and a single row that a page break cuts
    from the rest of its table (the last thing on its page, a table of as many columns first
    on the next, or the reverse). A single ruled row alone is a heading row or a frame."""

    def first(k: int) -> _Table | None:
        if not (0 <= k < len(pages)) or not tables[k] or not pages[k]:
            return None
        t = min(tables[k], key=lambda t: t.top)
        return t if all(bottom > t.top for _, _, bottom in pages[k]) else None

    def last(k: int) -> _Table | None:
        if not (0 <= k < len(pages)) or not tables[k] or not pages[k]:
            return None
        t = max(tables[k], key=lambda t: t.bottom)
        return t if all(top < t.bottom for _, top, _ in pages[k]) else None

    def width(t: _Table | None) -> int:
        return max(len(r) for r in t.rows) if t is not None else 0

    out: list[list[_Table]] = []
    for k, page_tables in enumerate(tables):
        keep = []
        for t in page_tables:
            cut = (t is last(k) and width(first(k + 1)) == width(t)) or (
                t is first(k) and width(last(k - 1)) == width(t)
            )
            if len(t.rows) >= 2 or cut:
                keep.append(t)
        out.append(keep)
    return out


def _joined_tables(blocks: list[Block]) -> list[Block]:
    """A table that goes on after a page break is one table."""
    out: list[Block] = []
    for b in blocks:
        if b.kind == "table":
            k = len(out)
            while k and out[k - 1].kind == "blank":
                k -= 1
            prev = out[k - 1] if k else None
            if (
                prev is not None
                and prev.kind == "table"
                and (max(len(r) for r in prev.rows) == max(len(r) for r in b.rows))
            ):
                prev.rows.extend(b.rows)
                continue
        out.append(b)
    return out
