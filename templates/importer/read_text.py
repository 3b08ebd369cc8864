"""Readers of plain text (.txt) and Markdown (.md) files into blocks (pure)."""

from __future__ import annotations

import re

from templates.importer.model import Block

_RULE = re.compile(r"^\s*([-_=*─—]\s*){8,}$")
_WRITE_ON = re.compile(r"^[\s_]*_{3}[\s_]*$")  # a line of underscores: a place to write
_MD_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_LIST = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")
_MD_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def read_txt(text: str) -> list[Block]:
    """Physical lines of a text file; a line of dashes is a page break, a line of underscores
    under a question ("Categories of data subjects:") the place to write its answer."""
    out: list[Block] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n").split("\n"):
        line = raw.rstrip()
        above = next((b.text for b in reversed(out) if b.kind != "blank"), "")
        if _WRITE_ON.match(line) and above.rstrip().endswith(":"):
            out.append(Block("line", line))
        elif _RULE.match(line):
            out.append(Block("break"))
        elif line.strip():
            out.append(Block("line", line))
        else:
            out.append(Block("blank"))
    return out


def _inline_md(text: str) -> str:
    """Markdown emphasis, code and links reduced to their words."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<!\w)([*_])(?!\s)(.+?)(?<!\s)\1(?!\w)", r"\2", text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    return text.replace("\\", "")


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [_inline_md(c.strip()) for c in line.split("|")]


def read_md(text: str) -> list[Block]:
    """Headings, list items, tables and paragraphs of a Markdown file."""
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append(Block("p", _inline_md(" ".join(s.strip() for s in para))))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        heading = _MD_HEADING.match(line)
        item = _MD_LIST.match(line)
        if not line.strip():
            flush()
        elif para and re.fullmatch(r" {0,3}(=+|-+)[ \t]*", line):
            # A setext heading: the paragraph above the line of "=" or "-" is a heading.
            level = 1 if line.strip().startswith("=") else 2
            out.append(Block("h", _inline_md(" ".join(x.strip() for x in para)), level=level))
            para.clear()
        elif _MD_BREAK.match(line):
            flush()  # a thematic break ("---", "***"): a rule between parts, no words
        elif heading:
            flush()
            out.append(Block("h", _inline_md(heading.group(2)), level=len(heading.group(1))))
        elif _RULE.match(line):
            flush()
            out.append(Block("break"))
        elif "|" in line and i + 1 < len(lines) and _MD_TABLE_SEP.match(lines[i + 1]):
            flush()
            rows = [_cells(line)]
            i += 2
            while i < len(lines) and "|" in lines[i] and lines[i].strip():
                rows.append(_cells(lines[i]))
                i += 1
            out.append(Block("table", rows=rows))
            continue
        elif item:
            flush()
            level = len(item.group(1).expandtabs(4)) // 2
            if re.match(r"^\s*\d+[.)]", line):
                number = re.match(r"^\s*(\d+[.)])", line)
                assert number is not None
                out.append(Block("p", f"{number.group(1)} {_inline_md(item.group(2))}"))
            else:
                out.append(Block("li", _inline_md(item.group(2)), level=level))
        else:
            para.append(line)
        i += 1
    flush()
    return out
