"""How much of the source's text a rendering keeps, in order (the words of the source found in
the text of the PDF, as difflib matches them)."""

from __future__ import annotations

import difflib
import io
import re


def words(text: str) -> list[str]:
    """Words for comparison: hyphenation undone, punctuation and case ignored; a compound is
    the same word with or without its hyphen ("sous-traitant" broken at its hyphen over two
    lines cannot tell the two apart)."""
    text = re.sub("\u00ad\\s*\n\\s*", "", text)  # soft hyphens at line ends
    text = re.sub(r"(\w)-[ \t]*\n\s*(\w)", r"\1\2", text)  # words broken at a line end
    out = []
    for token in text.split():
        token = token.strip(".,:;()[]{}\"'’‘“”•–—-…°").lower().replace("-", "")
        # Blanks to fill in ("______") are not words of the text.
        if re.search(r"[^\W_]", token):
            out.append(token)
    return out


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF, line by line from the top of each page (pdfplumber, on pdfminer:
    pdfminer's own order can put a centred heading after the text under it)."""
    import pdfplumber  # only check reads rendered PDFs back

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "\n".join(page.extract_text() or "" for page in doc.pages)
    # Typst's hyphen glyph reads back as a soft hyphen: inside a line it is a real hyphen.
    return re.sub("\u00ad(?![ \t]*\n)", "-", text)


def coverage(source: str, rendered: str) -> tuple[float, list[str]]:
    """Share of the source's words found in order in the rendering; the first missing passages."""
    expected = words(source)
    if not expected:
        return 1.0, []
    got = words(rendered)
    matcher = difflib.SequenceMatcher(None, expected, got, autojunk=False)
    kept = sum(b.size for b in matcher.get_matching_blocks())
    gaps = [
        " ".join(expected[i1:i2])
        for tag, i1, i2, _, _ in matcher.get_opcodes()
        if tag in ("delete", "replace")
    ]
    return kept / len(expected), gaps[:10]
