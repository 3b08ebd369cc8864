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
    m = _NAME_END.search(body)
    name = (body[: m.start()] if m else "").strip()
    if not name or pt.words(name) > 8 or not re.match(r"\w", name):
        return None
    return name


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
        number = pt.ENTERPRISE_NUMBER.search(text)
        rep = pt.REPRESENTED_BY.search(text)
        nxt = preamble[i + 1].text if i + 1 < len(preamble) else ""
        if number or rep:
            first = min(m.start() for m in (number, rep) if m is not None)
            role = _role_after(text, first) or _role(text)
            trade = _TRADE_NAME.search(text)
            name = trade.group(1).strip() if trade else _name_at_start(text)
        elif (
            pt.words(text) <= 6
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
        parties.append(Party(role, found))
    return cut, parties
