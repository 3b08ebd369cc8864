"""Annex fields: the labels of Bijlage 1 / Annexe / Annex found and mapped to canonical ids.

Label rows ("Onderwerp van de verwerking"), "Label: value" rows, questions ending in a colon
with nothing under them, label tables (label | value) and a DPO group (a DPO line with name,
phone and email rows under it) become fields; a canonical label becomes that id, any other
label the template's own field.
"""

from __future__ import annotations

import re
import unicodedata

from templates.importer import patterns as pt
from templates.importer.canonical import canonical_id, is_dpo, is_name_label
from templates.importer.items import FoundField, Item
from templates.importer.model import Block

_LABEL_VALUE = re.compile(r"^([^:]{2,80}?)\s*:\s*(.*)$")


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "_".join(words[:4])[:30] or "field"


class _Fields:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.found: list[FoundField] = []

    def add(self, label: str, default: str, *, dpo: bool) -> str:
        label = label.strip().rstrip(":").strip()
        fid = canonical_id(label, in_dpo_group=dpo)
        taken = {f.id for f in self.found}
        canonical = fid is not None and fid not in taken
        if not canonical:
            base = f"{self.prefix}_{_slug(label)}"
            fid, n = base, 2
            while fid in taken:
                fid, n = f"{base}_{n}", n + 1
        assert fid is not None
        value = "" if pt.is_blank(default) else default.strip()  # "……" is a place to write
        self.found.append(FoundField(fid, label, value, canonical))
        return fid


def _label_as_written(text: str, lv: re.Match[str]) -> str:
    """ "Objet du traitement : …" → "Objet du traitement :" (its colon as the document has it)."""
    return text[: text.index(":", lv.end(1)) + 1]


def _short_label(text: str) -> bool:
    t = text.strip()
    return 0 < pt.words(t) <= 10 and not t.endswith((".", ";", ",")) and len(t) <= 90


def _question(b: Block) -> bool:
    return b.kind == "p" and b.text.rstrip().endswith(":") and 0 < pt.words(b.text) <= 40


# The cell above the values of a label table: "Item | Description", "Rubriek | Omschrijving".
_COLUMN_HEADING = re.compile(
    r"^(?:description|omschrijving|beschrijving|toelichting|details?|détails?|value|valeur|"
    r"waarde|answer|antwoord|response|réponse|reponse|contenu|inhoud|invulling|specificatie|"
    r"spécification|specification|information|informatie|précisions|explanation|uitleg|"
    r"in te vullen|à compléter|to be completed)\s*:?$",
    re.IGNORECASE,
)


def _header_row(row: list[str]) -> bool:
    return len(row) == 2 and _COLUMN_HEADING.match(row[1].strip()) is not None


def _names_follow(labels: list[str]) -> bool:
    """Whether a DPO line heads a group: one of the labels right under it asks a name."""
    for label in labels[:4]:
        if is_name_label(label):
            return True
        if not _short_label(label) or canonical_id(label, in_dpo_group=True) is None:
            return False
    return False


_SUBLABEL = re.compile(r"^\(?(?:\d{1,2}|[a-z])[.)]\s*(.+)$")


def body_fields(items: list[Item], prefix: str) -> tuple[list[Item], list[FoundField]]:
    """Annex details a document asks in its body, as labelled subsections ("(1) Onderwerp"
    and its paragraph): fields when at least two canonical ones are found, else nothing."""
    fields = _Fields(prefix)
    out: list[Item] = []
    i = 0
    while i < len(items):
        it = items[i]
        m = _SUBLABEL.match(it.text) if it.kind == "p" and not it.segments else None
        nxt = items[i + 1] if i + 1 < len(items) else None
        taken = {f.id for f in fields.found}
        if (
            m
            and _short_label(m.group(1))
            and canonical_id(m.group(1), in_dpo_group=False) not in (None, *taken)
            and nxt is not None
            and nxt.kind == "p"
            and not nxt.segments
        ):
            intro = nxt.text.rstrip().endswith(":")
            fid = fields.add(m.group(1), "" if intro else nxt.text, dpo=False)
            out.append(Item("field", it.text, field_id=fid))
            if intro:
                out.append(nxt)
            i += 2
            continue
        out.append(it)
        i += 1
    if sum(f.canonical for f in fields.found) < 2:
        return items, []
    return out, fields.found


def annex_fields(blocks: list[Block], prefix: str) -> tuple[list[Item], list[FoundField]]:
    """The annex's items with fields in place of its labels, and the fields found."""
    fields = _Fields(prefix)
    items: list[Item] = []
    dpo = False
    n = len(blocks)

    def label_like(j: int) -> bool:
        if j >= n:
            return True
        b = blocks[j]
        if b.kind in ("h", "break", "table"):
            return True
        if b.kind != "p":
            return False
        t = b.text
        if re.fullmatch(r"\d{1,2}[.)]?", t.strip()):
            return True  # a stray number (OCR) between label rows
        return _question(b) or (_short_label(t) and canonical_id(t, in_dpo_group=dpo) is not None)

    skip: set[int] = set()
    for i, b in enumerate(blocks):
        if i in skip:
            continue
        text = b.text.strip()
        if b.kind == "table":
            rows = [r for r in b.rows if any(c.strip() for c in r)]
            if (
                rows
                and all(len(r) >= 1 and _short_label(r[0]) for r in rows)
                and all(len(r) <= 2 for r in rows)
                and not pt.is_signature_table(rows)
            ):
                for k, r in enumerate(rows):
                    value = r[1] if len(r) > 1 else ""
                    if k == 0 and len(rows) > 1 and _header_row(r):
                        items.append(Item("p", "  ".join(r), bold=True))
                        continue
                    if is_dpo(r[0]) and pt.is_blank(value):
                        dpo = True
                        if _names_follow([x[0] for x in rows[k + 1 :]]):
                            items.append(Item("p", r[0], bold=True))  # the group's heading
                            continue
                        # else the DPO row asks the DPO's name itself
                    fid = fields.add(r[0], value, dpo=dpo)
                    items.append(Item("field", r[0], field_id=fid))
                continue
            items.append(Item("table", rows=b.rows))
            continue
        if b.kind == "h":
            # A numbered label row ("1. Onderwerp van de verwerking") reads as a heading.
            label = re.sub(r"^\(?\d{1,2}(?:\.\d{1,2})*[.)]?\s*", "", text)
            if (
                _short_label(label)
                and canonical_id(label, in_dpo_group=False) is not None
                and label_like(i + 1)
                and not (i + 1 < n and _question(blocks[i + 1]))
            ):
                fid = fields.add(label, "", dpo=False)
                items.append(Item("field", text, field_id=fid))
                continue
        if b.kind != "p":
            dpo = False if b.kind == "h" else dpo
            items.append(Item(b.kind if b.kind != "h" else "h", text, level=max(b.level, 2)))
            continue
        lv = _LABEL_VALUE.match(text)
        # A DPO line with a place for its answer ("Délégué … : ……") asks the DPO's name, unless
        # a name row follows; the rows under it (email, phone) are the DPO's.
        if (
            lv is not None
            and lv.group(2)
            and is_dpo(lv.group(1))
            and pt.words(lv.group(1)) <= 10
            and not _names_follow(
                [
                    m.group(1)
                    for x in blocks[i + 1 : i + 5]
                    if x.kind == "p" and (m := _LABEL_VALUE.match(x.text))
                ]
            )
        ):
            dpo = True
            fid = fields.add(lv.group(1), lv.group(2), dpo=True)
            items.append(Item("field", _label_as_written(text, lv), field_id=fid))
            continue
        # A DPO group: its heading line, then its name/phone/email rows.
        if (
            is_dpo(text)
            and (text.endswith(":") or _short_label(text))
            and (i + 1 < n and blocks[i + 1].kind == "p" and _LABEL_VALUE.match(blocks[i + 1].text))
        ):
            dpo = True
            items.append(Item("p", text, bold=True))
            continue
        in_group = (
            dpo and lv is not None and pt.is_blank(lv.group(2)) and pt.words(lv.group(1)) <= 4
        )
        if in_group and lv is not None and lv.group(2):
            # "Name:   ______": the label, and a box where the line to write on was.
            fid = fields.add(lv.group(1), "", dpo=dpo)
            items.append(Item("field", _label_as_written(text, lv), field_id=fid))
            continue
        if in_group or (_question(b) and label_like(i + 1) and not pt.is_signature_line(text)):
            fid = fields.add(text, "", dpo=dpo)
            items.append(Item("field", text, field_id=fid))
            continue
        if (
            lv
            and lv.group(2)
            and pt.words(lv.group(1)) <= 8
            and (
                canonical_id(lv.group(1), in_dpo_group=dpo) is not None
                or (
                    i + 1 < n
                    and blocks[i + 1].kind == "p"
                    and _LABEL_VALUE.match(blocks[i + 1].text)
                )
                or (i and blocks[i - 1].kind == "p" and _LABEL_VALUE.match(blocks[i - 1].text))
            )
        ):
            fid = fields.add(lv.group(1), lv.group(2), dpo=dpo)
            items.append(Item("field", _label_as_written(text, lv), field_id=fid))
            continue
        if (
            _short_label(text)
            and not pt.is_signature_line(text)
            and canonical_id(text, in_dpo_group=False) is not None
            and not (i + 1 < n and _question(blocks[i + 1]))
            and label_like(i + 1)
        ):
            fid = fields.add(text, "", dpo=False)
            items.append(Item("field", text, field_id=fid))
            continue
        nxt = blocks[i + 1] if i + 1 < n else None
        if (
            _short_label(text)
            and not pt.is_signature_line(text)
            and canonical_id(text, in_dpo_group=False) is not None
            and nxt is not None
            and nxt.kind == "p"
            and not _question(nxt)
            and not label_like(i + 1)
            and label_like(i + 2)
        ):
            # A label line and its answer under it ("Duration" / "For the term of …").
            fid = fields.add(text, nxt.text, dpo=False)
            items.append(Item("field", text, field_id=fid))
            skip.add(i + 1)
            continue
        if dpo and not (lv and pt.words(lv.group(1)) <= 4):
            dpo = False
        items.append(Item("p", text))
    return items, fields.found
