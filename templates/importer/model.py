"""What the readers give the importer: blocks of a document, in reading order (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["line", "blank", "p", "h", "li", "table", "break"]


@dataclass
class Block:
    """One piece of a document.

    Readers of laid-out text (.txt, .pdf) give physical lines ("line", "blank"), joined into
    paragraphs later; readers of structured files (.docx, .md) give paragraphs ("p"), headings
    ("h", with level), list items ("li", with level), tables ("table", rows of cells) and page
    breaks ("break").
    """

    kind: Kind
    text: str = ""
    level: int = 0
    rows: list[list[str]] = field(default_factory=list)
