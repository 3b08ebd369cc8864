"""The numbered articles of a document template, as plain text for staff (pure; no rendering).

Staff deciding on a change request want the article's current wording next to the customer's
words. The Typst source is the single source of that wording, so it is read from there: the
level-2 headings of the contract body (before the first annex) that carry a number, and their
text up to the next heading, with the markup reduced to readable text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from templates import registry

# "== Artikel 5: Gebruik sub-verwerkers", "== Artikel 5. …", "== 5\. Onderaanneming"
_HEADING = re.compile(
    r"^==\s+(?:(?:Artikel|Article|Clausule|Clause|Sectie|Section)\s+)?(\d+)\s*\\?[.:]?\s*(.*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Article:
    number: str
    title: str
    text: str


def _plain(line: str) -> str:
    """Typst markup of one body line as readable text (for a chat message, not a PDF)."""
    line = re.sub(r"#sentence\(\"(\w+)\"\)", r"[\1]", line)
    line = re.sub(r"#show-val\(val\(\w+, \"(\w+)\"\)\)", r"[\1]", line)
    line = re.sub(r"#[a-z-]+\([^)]*\)", "", line)  # other calls: layout helpers, not wording
    line = line.replace("\\", "").replace("*", "").replace("_", " ")
    line = re.sub(r"^\s*[+-]\s+", "• ", line)
    return line.strip()


@cache
def articles(template_id: str) -> dict[str, Article]:
    """Article number → its title and current standard wording, for one template."""
    source = (registry.resolve(template_id) / "dpa.typ").read_text(encoding="utf-8")
    out: dict[str, Article] = {}
    current: tuple[str, str] | None = None
    body: list[str] = []
    titles = 0

    def close() -> None:
        if current is not None and current[0] not in out:
            text = "\n".join(p for p in body if p).strip()
            out[current[0]] = Article(current[0], current[1], re.sub(r"\n{2,}", "\n", text))

    for raw in source.splitlines():
        if raw.startswith("= "):
            titles += 1
            close()
            current, body = None, []
            if titles > 1:
                break  # an annex: its numbered headings are not the contract's articles
            continue
        if raw.startswith("=="):
            close()
            body = []
            m = _HEADING.match(raw)
            current = (m.group(1), _plain(m.group(2))) if m else None
            continue
        stripped = raw.strip()
        if stripped.startswith(("#let", "#signature", "#pagebreak", "#{", "[", "]")):
            # Code after the last article (signature block, annex set-up): not wording.
            close()
            current, body = None, []
            continue
        if current is not None and not stripped.startswith("//"):
            body.append(_plain(raw))
    close()
    return out


def article(template_id: str, number: str | None) -> Article | None:
    """One article, or None when the number is absent or the template has no such article."""
    if not number:
        return None
    return articles(template_id).get(number.lstrip("0") or number)
