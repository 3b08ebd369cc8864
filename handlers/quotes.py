"""Cut the quoted original and the signature from a reply (pure)."""

from __future__ import annotations

import re

# Lines that start the quoted original in common clients, in nl, fr and en.
_HEADERS = [
    r"^-{2,}\s*(Original Message|Oorspronkelijk bericht|Message d'origine|Forwarded message|"
    r"Doorgestuurd bericht)\s*-{2,}",
    r"^(Op|On|Le)\s.+(schreef|wrote|a écrit)\s*.*:\s*$",
    r"^(Van|From|De)\s*:\s.+",
    r"^_{10,}\s*$",
]
_HEADER_RE = re.compile("|".join(f"(?:{h})" for h in _HEADERS), re.I)
# "Op ma 23 nov. 2026 om 10:00 schreef X <x@y>:" is often wrapped over two lines.
_WRAPPED_START = re.compile(r"^(Op|On|Le)\s.+", re.I)
_WRAPPED_END = re.compile(r"(schreef|wrote|a écrit)\s*.*:\s*$", re.I)
_SIGNATURE = re.compile(r"^(--|—)\s*$")


def strip_quotes(text: str) -> str:
    """The customer's own words: everything above the quoted original, minus '>' lines."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if _HEADER_RE.match(stripped) or _SIGNATURE.match(stripped):
            break
        if (
            _WRAPPED_START.match(stripped)
            and i + 1 < len(lines)
            and _WRAPPED_END.search(lines[i + 1].strip())
        ):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    while kept and not kept[-1].strip():
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    return "\n".join(kept)
