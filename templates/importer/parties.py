"""The parties of a document: who is named at its head becomes data, not fixed text (pure).

A paragraph (or a short line and the role line under it) that names a party with its
enterprise number, address or representative is cut into text and values: the controller's
name, number and representative become the contract's fields, the processor's the tenant's
data, so the template prints whatever the contract holds where the document had them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from templates.importer import patterns as pt
from templates.importer.model import Block

# A value in a paragraph: ("F", field id) for the controller, ("P", key) for the processor.
Ref = tuple[str, str]
Segment = str | Ref


@dataclass
class Party:
    role: str  # "controller" or "processor"
    values: dict[str, str]


def _role_after(text: str, pos: int) -> str | None:
    """The party a value belongs to: the first role named after it ("…, hereinafter the
    Customer, and …"), when the paragraph names both parties."""
    rest = text[pos:]
    controller = pt.CONTROLLER_WORDS.search(rest)
    processor = pt.PROCESSOR_WORDS.search(rest)
    if controller and processor:
        return "controller" if controller.start() < processor.start() else "processor"
    return None


def _role(text: str) -> str | None:
    controller = len(pt.CONTROLLER_WORDS.findall(text))
    processor = len(pt.PROCESSOR_WORDS.findall(text))
    if controller == processor == 0:
        return None
    return "controller" if controller > processor else "processor"


_NAME_END = re.compile(
    r",|\s+(?:met|with|avec|dont|ayant|having|ondernemingsnummer|numéro|gevestigd|établie?|"
    r"with its|hier|ici|here|\()",
    re.IGNORECASE,
)


_TRADE_NAME = re.compile(
    r"(?:onder de handelsnaam|handelend onder de naam|sous la dénomination|sous le nom commercial|"
    r"trading as|doing business as)\s+([^,;()]+?)(?=\s*[,;(]|$)",
    re.IGNORECASE,
)


def _name_at_start(text: str) -> str | None:
    between = re.search(
        r"\b(?:between|entre|tussen)\s*:?\s+(?:(?:la société|de firma|the company)\s+)?",
        text,
        flags=re.IGNORECASE,
    )
    if between and between.start() < 120:
        text = text[between.end() :]
    body = re.sub(
        r"^(?:(?:de|het|la|le|l'|the)\s+)?(?:leverancier|klant|verwerker|"
        r"verwerkingsverantwoordelijke|client|fournisseur|prestataire|sous-traitant|"
        r"customer|supplier|processor|controller)\s*:?\s+",
        "",
        text,
        flags=re.IGNORECASE,
    )
    # "2. Loonwijs B.V., …", "AND Acme Ltd, …": a list number or a connective is not the name.
    body = re.sub(r"^(?:and|en|et)\s*:?\s+", "", _ENUMERATION.sub("", body), flags=re.IGNORECASE)
    m = _NAME_END.search(body)
    name = (body[: m.start()] if m else "").strip()
    if not name or pt.words(name) > 8 or not re.match(r"\w", name):
        return None
    return name


_NOT_A_NAME = re.compile(
    r"^(?:partijen|parties|tussen|between|entre|en|et|and|de ondergetekenden|ondergetekenden|"
    r"les soussignés|the undersigned|overwegende dat|whereas|considérant que)\s*:?$",
    re.IGNORECASE,
)
_ENUMERATION = re.compile(r"^\(?(?:\d{1,2}|[a-z]|[ivx]{1,4})[.)°]\s+", re.IGNORECASE)
_ROLE_LINE = re.compile(r"hierna|verder genoemd|hereinafter|ci-après|referred to", re.IGNORECASE)
# What a place to write in a party's paragraph asks, from the words just before it.
_SLOT_BEFORE: list[tuple[str, re.Pattern[str]]] = [
    ("representative_function", re.compile(
        r"(?:qualité de|hoedanigheid van|hoedanigheid|capacity as|as its|fonction de|functie)"
        r"\s*:?$", re.IGNORECASE)),
    ("representative", re.compile(
        r"(?:vertegenwoordigd door|représentée? par|represented by)"
        r"(?:\s+(?:de heer|mevrouw|monsieur|madame|mr\.?|mrs\.?|ms\.?))?\s*:?$", re.IGNORECASE)),
    ("enterprise_number", re.compile(
        r"(?:nummer|numéro|number|n°|nr\.?|kbo|bce|btw|tva|vat)\s*:?$", re.IGNORECASE)),
    ("address", re.compile(
        r"(?:\bte|\bà|\bat|\bin|adres|adresse|address|zetel|siège|office)\s*:?$", re.IGNORECASE)),
]  # fmt: skip
_SLOTS = re.compile(r"(?:_{3,}|\.{6,}|…{2,})(?:[ \t]*(?:_{3,}|\.{6,}|…{2,}))*")


def _slot_segments(text: str, role: str) -> tuple[list[Segment], dict[str, str]]:
    """A party paragraph with places to write ("……, met zetel te ……, vertegenwoordigd door
    ……"): each place becomes the value its preceding words ask for (the first, at the start,
    the name); a place nothing names stays as written."""
    prefix = "F" if role == "controller" else "P"
    segments: list[Segment] = []
    found: dict[str, str] = {}
    pos = 0
    for m in _SLOTS.finditer(text):
        before = text[: m.start()].rstrip(" ,;:")
        key = None
        lead = re.sub(r"^(?:tussen|between|entre)\s*:?\s*", "", before, flags=re.IGNORECASE)
        if not _ENUMERATION.sub("", lead).strip():
            key = "name"
        else:
            key = next((k for k, rule in _SLOT_BEFORE if rule.search(before)), None)
        if role == "controller" and key is not None:
            key = f"customer_{key}"
        elif key == "address":
            key = None  # the processor's address is not the tenant's data
        if key is None or key in found:
            continue
        if text[pos : m.start()]:
            segments.append(text[pos : m.start()])
        segments.append((prefix, key))
        found[key] = ""
        pos = m.end()
    if text[pos:]:
        segments.append(text[pos:])
    return segments, found


def _next_role(preamble: list[Block], i: int) -> str | None:
    """The role named by the line under a party's paragraph ("ci-après dénommée « le
    Sous-traitant »")."""
    nxt = preamble[i + 1].text if i + 1 < len(preamble) else ""
    if nxt and pt.words(nxt) <= 12 and _ROLE_LINE.search(nxt):
        return _role(nxt)
    return None


def split_values(text: str, values: dict[str, Ref]) -> list[Segment]:
    """text cut at each occurrence of a value (longest first) into text and value references."""
    segments: list[Segment] = [text]
    for value in sorted(values, key=len, reverse=True):
        out: list[Segment] = []
        for seg in segments:
            if not isinstance(seg, str) or value not in seg:
                out.append(seg)
                continue
            parts = seg.split(value)
            for i, part in enumerate(parts):
                if i:
                    out.append(values[value])
                if part:
                    out.append(part)
        segments = out
    return segments


def find_parties(preamble: list[Block]) -> tuple[dict[int, list[Segment]], list[Party]]:
    """Paragraphs of the preamble that name a party, cut into segments; the parties found."""
    cut: dict[int, list[Segment]] = {}
    parties: list[Party] = []
    seen_roles: set[str] = set()
    for i, b in enumerate(preamble):
        if b.kind != "p":
            continue
        text = b.text
        if len(_SLOTS.findall(text)) >= 2:
            role = _role(text) or _next_role(preamble, i)
            if role is not None and role not in seen_roles:
                segments, found_slots = _slot_segments(text, role)
                if found_slots:
                    seen_roles.add(role)
                    cut[i] = segments
                    parties.append(Party(role, found_slots))
                    continue
        number = pt.ENTERPRISE_NUMBER.search(text)
        rep = pt.REPRESENTED_BY.search(text)
        nxt = preamble[i + 1].text if i + 1 < len(preamble) else ""
        continued = False
        if number or rep:
            first = min(m.start() for m in (number, rep) if m is not None)
            role = _role_after(text, first) or _role(text)
            if role is None:
                role = _next_role(preamble, i)
                continued = role is not None and preamble[i + 1].kind == "p"
            trade = _TRADE_NAME.search(text)
            name = trade.group(1).strip() if trade else _name_at_start(text)
        elif (
            pt.words(text) <= 6
            and not _NOT_A_NAME.match(text.strip())
            and (not pt.ends_sentence(text) or pt.BLANKS.fullmatch(text.replace(" ", "")))
            and _role(nxt)
            and re.search(
                r"hierna|verder genoemd|hereinafter|ci-après|referred to", nxt, re.IGNORECASE
            )
        ):
            role, name, number, rep = _role(nxt), text.strip(), None, None
            if pt.BLANKS.fullmatch(name.replace(" ", "")):
                role = "controller"
        else:
            continue
        if role is None or role in seen_roles:
            continue
        seen_roles.add(role)
        prefix = "F" if role == "controller" else "P"
        keys = (
            ("customer_name", "customer_enterprise_number", "customer_representative")
            if role == "controller"
            else ("name", "enterprise_number", "representative")
        )
        found: dict[str, str] = {}
        refs: dict[str, Ref] = {}
        for key, value in zip(
            keys,
            (name, number.group(0) if number else None, rep.group(1).strip() if rep else None),
            strict=True,
        ):
            if value:
                found[key] = "" if pt.BLANKS.fullmatch(value.replace(" ", "")) else value
                refs[value] = (prefix, key)
        if not refs:
            continue
        cut[i] = split_values(text, refs)
        if continued and rep is None:
            # The party's paragraph goes on in its role line ("vertegenwoordigd door X,
            # verder genoemd klant"): the representative named there is the party's too.
            more = pt.REPRESENTED_BY.search(nxt)
            if more and not pt.is_blank(more.group(1)):
                key = keys[2]
                found[key] = more.group(1).strip()
                cut[i + 1] = split_values(nxt, {found[key]: (prefix, key)})
        parties.append(Party(role, found))
    return cut, parties
