"""What the importer writes: the document as a list of items for the Typst writer (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from templates.importer.parties import Segment

ItemKind = Literal[
    "line",
    "blank",
    "title",
    "p",
    "h",
    "li",
    "table",
    "break",
    "signature",
    "annex",
    "field",
    "parties",
]


@dataclass
class Item:
    kind: ItemKind
    text: str = ""
    level: int = 0
    segments: list[Segment] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    field_id: str = ""
    bold: bool = False


@dataclass
class FoundField:
    """A field found in the document: its id, the document's label, and any value it had."""

    id: str
    label: str
    default: str = ""
    canonical: bool = True
