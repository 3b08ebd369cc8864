"""What headings, annex titles, list items and signature lines look like, in nl, fr and en."""

from __future__ import annotations

import re

ARTICLE = re.compile(
    r"^(?:artikel|article|art\.|clausule|clause|sectie|section|hoofdstuk|chapitre|chapter|"
    r"paragraaf|paragraph)\s*(?:\d+[a-z]?|premier|première|1er|1re|unique|(?-i:[IVX]{1,5}))\b",
    re.IGNORECASE,
)
NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)[.)]?\s+[A-ZÀ-Ý\"“‘'(]")
ANNEX = re.compile(
    r"(?:^|[–—:-]\s*|^\S+\s+[–—-]\s*)"
    r"(bijlage|bijvoegsel|annexe|annex|appendix|appendice|schedule|addendum|aanhangsel)"
    r"\s+([0-9]{1,2}|[IVX]{1,4}|[A-Z])\b",
    re.IGNORECASE,
)
BULLET = re.compile(r"^\s*(--|[•▪◦●■□➢►\-–*]|o(?=\s))\s+(.*)$")
ITEM = re.compile(r"^\s*(\(?\d{1,2}[.)°]|\(?[a-z][.)]|\d{1,2}°\.?|\(?[ivx]{1,4}\))\s+\S")
SIGNATURE_WORDS = re.compile(
    r"\b(naam|name|nom|functie|function|fonction|hoedanigheid|qualité|datum|date|handtekening|"
    r"signature|handtekening|stempel|cachet|locatie|plaats|lieu|place|titel|title|"
    r"gelezen en goedgekeurd|lu et approuvé|read and approved)\b",
    re.IGNORECASE,
)
BLANKS = re.compile(r"(_{3,}|\.{6,}|…{2,})")
ROLE_WORDS = re.compile(
    r"\b(verwerker|verwerkingsverantwoordelijke|leverancier|klant|opdrachtgever|"
    r"sous-traitant|responsable du traitement|responsable|prestataire|fournisseur|client|"
    r"processor|controller|supplier|customer|vendor)\b",
    re.IGNORECASE,
)
CONTROLLER_WORDS = re.compile(
    r"\b(verwerkingsverantwoordelijke|klant|opdrachtgever|controleur|responsable du traitement|"
    r"client|controller|customer)\b",
    re.IGNORECASE,
)
PROCESSOR_WORDS = re.compile(
    r"\b(verwerker|leverancier|sous-traitant|prestataire|fournisseur|processor|supplier|vendor)\b",
    re.IGNORECASE,
)
ENTERPRISE_NUMBER = re.compile(r"\b(?:BE\s?)?(?:[01]\d{3}|\d{3})[.\s]?\d{3}[.\s]?\d{3}\b")
REPRESENTED_BY = re.compile(
    r"(?:vertegenwoordigd door|représentée? par|represented by)\s+"
    r"(?:(?:de heer|mevrouw|dhr\.|mevr\.|monsieur|madame|m\.|mme|mr\.?|mrs\.?|ms\.?)\s+)?"
    r"((?:[^,;()\n]|\([A-ZÀ-Ý][\w.\-]*\)(?=\s+\w))+?)"
    r"(?=\s*(?:,|;|\((?![A-ZÀ-Ý][\w.\-]*\)\s+\w)|$|\s+(?:in zijn|in haar|en sa|en qualité|"
    r"as its|as)\b))",
    re.IGNORECASE,
)


_SIGN_CELL = re.compile(
    r"^\s*(naam|name|nom|functie|function|fonction|titel|title|position|hoedanigheid|qualité|"
    r"datum|date|handtekening|signature|plaats|place|lieu)\b\s*:?",
    re.IGNORECASE,
)


def is_blank(value: str) -> bool:
    """A value with no letter or digit in it: a place to write ("……", "____", "[…]", "")."""
    return re.search(r"[^\W_]", value) is None


def is_signature_table(rows: list[list[str]]) -> bool:
    """A table with a column per party and rows of the same signature label in each column
    ("Naam: … | Naam: …", "Date: | Date:"): where a document is signed, not annex rows."""
    same = 0
    for row in rows:
        cells = [c for c in row if c.strip()]
        labels = [m.group(1).lower() for c in cells if (m := _SIGN_CELL.match(c))]
        if len(cells) >= 2 and len(labels) == len(cells) and len(set(labels)) == 1:
            same += 1
    return same >= 2


def words(text: str) -> int:
    return len(text.split())


def ends_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", ";", "!", "?", ":"))


def heading_level(text: str) -> int:
    """2 for an article heading, 3 for a sub-numbered one, 0 when text is not a heading."""
    t = text.strip()
    n = words(t)
    if ARTICLE.match(t) and n <= 16 and not t.endswith((";", ",")):
        return 2
    m = NUMBERED.match(t)
    if m and n <= 12 and not t.endswith((".", ";", ",", ":")):
        return 2 if "." not in m.group(1) else 3
    return 0


def annex_title(text: str) -> str | None:
    """The annex key ("bijlage 1") when text is an annex's title line, else None."""
    t = text.strip()
    if words(t) > 20 or t.endswith((",", ";")):
        return None
    m = ANNEX.search(t)
    if m is None or m.start() > 60:
        return None
    return f"{m.group(2).lower()}"


def is_signature_line(text: str) -> bool:
    t = text.strip()
    if words(t) > 14 or (t.endswith((".", ";", ",")) and not BLANKS.search(t)):
        return False
    return bool(SIGNATURE_WORDS.search(t) or BLANKS.fullmatch(t.replace(" ", "")))
