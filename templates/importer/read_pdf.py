"""Reader of PDF files (pdfplumber) into lines: running heads and page numbers dropped, gaps
between paragraphs kept as blank lines."""

from __future__ import annotations

import io
import itertools
import re
import statistics
from collections import Counter
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


def read_pdf(data: bytes) -> list[Block]:
    """Lines of every page in reading order; blank lines where the gap shows a new paragraph."""
    import pdfplumber  # only this command reads PDFs
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [_page_lines(page) for page in pdf.pages]
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
        for text, _, _ in lines[:2] + lines[-2:]:
            edges[_shape(text)] += 1
    running = {s for s, n in edges.items() if len(pages) >= 2 and n >= max(2, len(pages) / 2)}
    out: list[Block] = []
    for lines in pages:
        kept = [
            (t, top, bottom)
            for i, (t, top, bottom) in enumerate(lines)
            if not (
                (i < 2 or i >= len(lines) - 2) and (_shape(t) in running or _PAGE_NUMBER.match(t))
            )
        ]
        gaps = [b[1] - a[2] for a, b in itertools.pairwise(kept)]
        usual = statistics.median(gaps) if gaps else 0.0
        for i, (text, _top, _bottom) in enumerate(kept):
            if i and gaps[i - 1] > max(usual * 1.8, usual + 4):
                out.append(Block("blank"))
            out.append(Block("line", text))
        out.append(Block("blank"))
    return out
