"""A document's parts found: title, party paragraphs, articles, signature lines, annexes (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from templates.importer import patterns as pt
from templates.importer.annex import annex_fields, body_fields
from templates.importer.items import FoundField, Item
from templates.importer.model import Block
from templates.importer.parties import Party, find_parties

_TITLE_WORDS = re.compile(
    r"overeenkomst|contract|convention|agreement|accord|clausules|clauses|addendum|dpa|"
    r"verwerk|traitement|processing",
    re.IGNORECASE,
)


@dataclass
class Structure:
    title: str
    items: list[Item]
    fields: list[FoundField]
    parties: list[Party]
    party_block_added: bool
    signature_found: bool
    signed: dict[str, dict[str, str]] = field(default_factory=dict)
    annexes: list[str] = field(default_factory=list)


def _normalise(blocks: list[Block]) -> list[Block]:
    """Paragraphs that are really headings (structured files) marked as such."""
    out: list[Block] = []
    for b in blocks:
        if b.kind == "p":
            level = pt.heading_level(b.text)
            if level:
                b = Block("h", b.text, level=level)
        if b.kind in ("p", "h", "li") and not b.text.strip():
            continue
        out.append(b)
    return out


def _title(blocks: list[Block]) -> tuple[str, list[Block]]:
    for i, b in enumerate(blocks[:4]):
        if (
            b.kind in ("h", "p")
            and pt.words(b.text) <= 12
            and _TITLE_WORDS.search(b.text)
            and not pt.heading_level(b.text)
        ):
            if pt.annex_title(b.text) is None and not pt.ends_sentence(b.text):
                return b.text.strip(), blocks[:i] + blocks[i + 1 :]
    return "", blocks


def _annex_starts(blocks: list[Block]) -> list[int]:
    """Where the annexes really start: for each annex named on a title line, its last such
    line (a list of annexes in the body comes before the annexes themselves)."""
    last: dict[str, int] = {}
    for i, b in enumerate(blocks):
        if b.kind in ("h", "p"):
            key = pt.annex_title(b.text)
            if key is not None and (b.kind == "h" or not pt.ends_sentence(b.text)):
                last[key] = i
    starts = sorted(last.values())
    # An annex title must be followed by something (else it is only a list entry).
    return [s for s in starts if s + 1 < len(blocks) and pt.annex_title(blocks[s + 1].text) is None]


def _signature_zone(body: list[Block]) -> tuple[int, int] | None:
    """The run of signature lines (names, functions, dates, blanks to sign on), if any."""
    first_heading = next((i for i, b in enumerate(body) if b.kind == "h"), 0)
    for i in range(first_heading, len(body)):
        b = body[i]
        if b.kind == "table":
            if not pt.is_signature_table(b.rows):
                continue
        elif b.kind != "p" or not pt.is_signature_line(b.text):
            continue
        near = [
            j for j in range(i + 1, min(i + 7, len(body)))
            if body[j].kind == "p" and pt.is_signature_line(body[j].text)
        ]  # fmt: skip
        if not near and b.kind != "table":
            continue
        start = i
        while (
            start > first_heading
            and body[start - 1].kind == "p"
            and pt.words(body[start - 1].text) <= 6
            and pt.ROLE_WORDS.search(body[start - 1].text)
            and not pt.ends_sentence(body[start - 1].text)
        ):
            start -= 1
        end = i + 1
        while (
            end < len(body)
            and body[end].kind in ("p", "table")
            and (
                body[end].kind == "table"
                or pt.is_signature_line(body[end].text)
                or (
                    pt.words(body[end].text) <= 10
                    and pt.ROLE_WORDS.search(body[end].text)
                    and not pt.ends_sentence(body[end].text)
                )
            )
        ):
            if body[end].kind == "table" and not any(
                pt.is_signature_line(c) for r in body[end].rows for c in r
            ):
                break
            end += 1
        return start, end
    return None


def _both_roles(text: str) -> bool:
    """A line over the two columns of a signature part ("Pour le Responsable du traitement
    Pour le Sous-traitant")."""
    return bool(pt.CONTROLLER_WORDS.search(text) and pt.PROCESSOR_WORDS.search(text))


_TWO_COLUMNS = re.compile(r"^(\w[\w ]{0,20}?)\s*:\s*(.*?)\s*\1\s*:\s*(.*)$", re.IGNORECASE)
_SIGN_KEYS = {
    "naam": "representative", "nom": "representative", "name": "representative",
    "functie": "representative_function", "fonction": "representative_function",
    "function": "representative_function", "position": "representative_function",
    "titel": "representative_function", "title": "representative_function",
}  # fmt: skip


_SIGN_CELL = re.compile(r"^(\w[\w ]{0,20}?)\s*:\s*(.*)$")


def _table_roles(rows: list[list[str]]) -> list[str]:
    """Which party each column of a signature table is, from the cells that name a role
    ("Voor de Verwerker", "Customer"); a column naming none is the other party."""
    width = max(len(r) for r in rows)
    roles = [""] * width
    for row in rows:
        for k, cell in enumerate(row):
            controller = pt.CONTROLLER_WORDS.search(cell)
            processor = pt.PROCESSOR_WORDS.search(cell)
            if (
                controller
                and not roles[k]
                and (not processor or controller.start() < processor.start())
            ):
                roles[k] = "controller"
            elif processor and not roles[k]:
                roles[k] = "processor"
    if width == 2 and roles.count("") == 1:
        other = {"controller": "processor", "processor": "controller"}
        known = roles[0] or roles[1]
        roles = [r or other[known] for r in roles]
    return roles


def _signature_values(zone: list[Block]) -> dict[str, dict[str, str]]:
    """Names and functions filled in on two-column signature lines ("Naam: A Naam: B") or in a
    signature table, by role, when a line above (or a cell) says which column is which party."""
    order: list[str] = []
    out: dict[str, dict[str, str]] = {"controller": {}, "processor": {}}
    for b in zone:
        if b.kind == "table":
            roles = _table_roles(b.rows)
            for row in b.rows:
                for k, cell in enumerate(row):
                    m = _SIGN_CELL.match(cell.strip())
                    key = _SIGN_KEYS.get(m.group(1).lower()) if m else None
                    if m and key and k < len(roles) and roles[k] and not pt.is_blank(m.group(2)):
                        out[roles[k]][key] = m.group(2).strip()
            continue
        text = b.text.strip()
        controller = pt.CONTROLLER_WORDS.search(text)
        processor = pt.PROCESSOR_WORDS.search(text)
        if controller and processor and pt.words(text) <= 12 and not pt.ends_sentence(text):
            order = ["controller", "processor"]
            if processor.start() < controller.start():
                order.reverse()
            continue
        m = _TWO_COLUMNS.match(text)
        key = _SIGN_KEYS.get(m.group(1).lower()) if m else None
        if m and key and order:
            for role, value in zip(order, (m.group(2), m.group(3)), strict=True):
                if value and not pt.BLANKS.fullmatch(value.replace(" ", "")):
                    out[role][key] = value
    return out


def _names_a_party(zone: list[Block]) -> bool:
    """Whether a run of signature lines says who signs: a signature table, or a line naming a
    party ("Voor de Verwerker", "For the Controller")."""
    return any(
        (b.kind == "table" and pt.is_signature_table(b.rows))
        or (b.kind == "p" and pt.words(b.text) <= 12 and pt.ROLE_WORDS.search(b.text))
        for b in zone
    )


def _plain_items(blocks: list[Block]) -> list[Item]:
    out = []
    for b in blocks:
        if b.kind == "table":
            out.append(Item("table", rows=b.rows))
        elif b.kind == "h":
            out.append(Item("h", b.text.strip(), level=min(max(b.level, 2), 4)))
        else:
            out.append(Item(b.kind, b.text.strip(), level=b.level))
    return out


def structure(blocks: list[Block], template_id: str) -> Structure:
    """The document's parts, with values and fields in place of party data and annex labels."""
    blocks = _normalise(blocks)
    title, blocks = _title(blocks)
    starts = _annex_starts(blocks)
    body = blocks[: starts[0]] if starts else blocks
    items: list[Item] = [Item("title", title)] if title else []

    first_heading = next((i for i, b in enumerate(body) if b.kind == "h"), len(body))
    cut, parties = find_parties(body[:first_heading])
    added = not any(p.role == "controller" for p in parties)
    if added:
        items.append(Item("parties"))
    zone = _signature_zone(body)
    # A document signed after its annexes: the signing part closes the last annex.
    last = blocks[starts[-1] + 1 :] if starts else []
    tail = _signature_zone(last) if zone is None and starts else None
    if tail is not None and not (
        _names_a_party(last[tail[0] : tail[1]]) and all(b.kind == "break" for b in last[tail[1] :])
    ):
        tail = None
    for i, b in enumerate(body):
        if zone and i == zone[0]:
            items.append(Item("signature"))
        if zone and zone[0] <= i < zone[1]:
            continue
        if zone and b.kind == "break" and i == zone[0] - 1:
            continue  # a rule under the text to sign is not a new page for the signatures
        if i in cut:
            items.append(Item("p", b.text, segments=cut[i]))
        else:
            items.extend(_plain_items([b]))
    if not zone and not tail:
        items.append(Item("signature"))

    fields: list[FoundField] = []
    annexes: list[str] = []
    prefix = template_id.replace("-", "_")
    for k, s in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(blocks)
        head = blocks[s].text.strip()
        annexes.append(head)
        items.append(Item("annex", head))
        content = [b for b in blocks[s + 1 : end] if b.kind != "break" or b is not blocks[end - 1]]
        if tail is not None and k == len(starts) - 1:
            content = last[: tail[0]]
        if not fields:
            annex_items, fields = annex_fields(content, prefix)
            items.extend(annex_items)
        else:
            items.extend(_plain_items(content))
    if tail is not None:
        items.append(Item("signature"))
    if not fields:
        items, fields = body_fields(items, prefix)
    signed = (
        # The line over the columns may stand just above the signature lines.
        _signature_values(
            [b for b in body[max(zone[0] - 2, 0) : zone[0]] if b.kind == "p"][-1:]
            + body[zone[0] : zone[1]]
        )
        if zone
        else _signature_values(last[tail[0] : tail[1]])
        if tail
        else {}
    )
    return Structure(
        title=title,
        items=items,
        fields=fields,
        parties=parties,
        party_block_added=added,
        signature_found=zone is not None or tail is not None,
        signed=signed,
        annexes=annexes,
    )
