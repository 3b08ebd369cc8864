"""Physical lines (.txt, .pdf) joined into paragraphs, headings and list items (pure).

Wrapped lines are joined, words broken at a line end ("verni-" + "etiging") are made whole
again, and a paragraph that runs on across a blank line (a page break in the middle of a
sentence) is kept as one.
"""

from __future__ import annotations

import re
import statistics

from templates.importer import patterns as pt
from templates.importer.model import Block

_CLAUSE = re.compile(r"^\d{1,2}(?:\.\d{1,2})+\.?\s+[A-ZÀ-Ý\"“‘'(]")
_LABEL_ROW = re.compile(r"^[A-ZÀ-Ý][^.:;]{1,60}\s?:(\s|$)")


_COMPOUND = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")


def _compounds(blocks: list[Block]) -> set[str]:
    """The hyphenated words a document writes inside its lines ("sous-traitant")."""
    return {w.lower() for b in blocks if b.kind == "line" for w in _COMPOUND.findall(b.text)}


def _join(a: str, b: str, compounds: frozenset[str] | set[str] = frozenset()) -> str:
    """Two lines of one paragraph. A word broken at the line end loses its hyphen, unless the
    hyphen is the word's own: after an acronym or a number ("EU-", "24-"), before a capital
    ("Banque-Carrefour"), or in a compound the document writes with it elsewhere."""
    if re.search(r"\w-$", a) and re.match(r"\w", b):
        head = re.search(r"(\w+)-$", a)
        tail = re.match(r"\w+", b)
        assert head is not None and tail is not None
        whole = f"{head.group(1)}-{tail.group(0)}".lower()
        if (
            re.fullmatch(r"[A-Z]{2,}|\d+", head.group(1))
            or b[0].isupper()
            or any(
                c == whole or c.endswith(f"-{whole}") or c.startswith(f"{whole}-")
                for c in compounds
            )
        ):
            return a + b
        return a[:-1] + b
    return f"{a} {b}"


def _capitals(text: str) -> bool:
    letters = re.sub(r"[^a-zà-ÿA-ZÀ-Ý]", "", text)
    return len(letters) >= 4 and letters == letters.upper()


def _runs_on(prev: str, line: str) -> bool:
    """A line that stops mid-sentence ("… représentée par") goes on in the next line when that
    one does not start as a new line would (with a capital or a number)."""
    p = prev.rstrip()
    return (
        (p.endswith(",") or re.search(r"\s[a-zà-ÿ]+$", p) is not None)
        and not re.match(r"[A-ZÀ-Ý0-9(]", line)
        and not pt.is_signature_line(p)
    )


def _wrapped(prev: str, width: float) -> bool:
    """A line as wide as the text that stops on a small word: a paragraph's first line, even
    when it is numbered and short in words ("7.1 Verwerker verleent … van verzoeken van")."""
    return len(prev) >= 0.8 * width and re.search(r"\s[a-zà-ÿ]+$", prev.rstrip()) is not None


def _starts_block(prev: str | None, line: str, width: float) -> bool:
    if prev is None:
        return True
    if _capitals(prev) and not _capitals(line) and not prev.rstrip().endswith((",", "-")):
        return True  # a title in capitals, then its subtitle or its text
    if pt.heading_level(line) or pt.annex_title(line) is not None:
        return pt.ends_sentence(prev) or pt.heading_level(prev) > 0 or pt.words(prev) <= 6
    if pt.BULLET.match(line) or pt.ITEM.match(line):
        return True
    if _CLAUSE.match(line) and pt.ends_sentence(prev):
        return True  # "4.2 De maatregelen …" under a sentence's end: the next clause
    if _LABEL_ROW.match(line) and (_LABEL_ROW.match(prev) or len(prev) < 0.75 * width):
        return True  # "Durée du traitement : …" rows of an annex
    if prev.rstrip().endswith(":") and prev.count("(") <= prev.count(")"):
        return True
    if pt.is_signature_line(line) and pt.words(line) <= 6 and not _runs_on(prev, line):
        return True
    if (pt.heading_level(prev) and not _wrapped(prev, width)) or (
        pt.annex_title(prev) is not None and pt.words(prev) <= 8
    ):
        # A numbered line that runs on in lower case is an item's first line, not a heading.
        return not (re.match(r"[a-zà-ÿ]", line) and not pt.ARTICLE.match(prev))
    if (
        pt.words(prev) <= 8
        and not prev.rstrip().endswith((",", "-"))
        and len(prev) < 0.5 * width
        and re.match(r"[A-ZÀ-Ý]", line)
    ):
        return True  # a title or a label line above a paragraph
    return pt.ends_sentence(prev) and len(prev) < 0.75 * width


def _block_of(text: str) -> Block:
    level = pt.heading_level(text)
    if level:
        return Block("h", text, level=level)
    bullet = pt.BULLET.match(text)
    if bullet:
        return Block("li", bullet.group(2), level=1 if bullet.group(1) == "--" else 0)
    return Block("p", text)


def paragraphs(blocks: list[Block]) -> list[Block]:
    """Blocks with every run of "line"/"blank" turned into paragraphs, headings and items."""
    compounds = _compounds(blocks)
    lengths = [len(b.text) for b in blocks if b.kind == "line"]
    width = statistics.quantiles(lengths, n=10)[-1] if len(lengths) >= 10 else 80.0
    out: list[Block] = []
    current: str | None = None
    last_line: str | None = None
    after_blank = False

    def close() -> None:
        nonlocal current
        if current is not None:
            out.append(_block_of(current.strip()))
            current = None

    for b in blocks:
        if b.kind == "blank":
            after_blank = True
            continue
        if b.kind != "line":
            close()
            last_line = None
            out.append(b)
            continue
        line = b.text.strip()
        if after_blank and current is not None:
            runs_on = re.search(r"\w-$", current) and re.match(r"\w", line)
            unfinished = (
                not pt.ends_sentence(current)
                and re.match(r"[a-zà-ÿ]", line)
                and len(last_line or "") >= 0.5 * width  # a wrapped line, not a title
            )
            if not (runs_on or (unfinished and not pt.BULLET.match(line))):
                close()
        after_blank = False
        if current is None or _starts_block(last_line, line, width):
            close()
            current = line
        else:
            current = _join(current, line, compounds)
        last_line = line
    close()
    return out
