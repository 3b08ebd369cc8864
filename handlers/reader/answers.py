"""Find field answers in the customer's words: numbered, labelled, in a sentence (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from handlers.reader.model import AnnexField
from handlers.text.lang import clean, fold, fold_same_length

# A fuzzy label match must be this close (0-100) and this far ahead of any other field's best:
# "Aard en doel van de verwerkng" is the nature and purpose, "Duur" vs "Doel" is nobody's.
FUZZY_MIN = 88
FUZZY_MARGIN = 6
FUZZY_MIN_LENGTH = 8


@dataclass
class Answer:
    """One answer found in the text, with the line it starts on (for order and free text)."""

    field: AnnexField
    value: str
    line: int
    source: str  # numbered | label | sentence | inline | form


class LabelMatcher:
    """Field of a label or alias in nl, fr or en, exactly (accents and case aside) or fuzzily."""

    def __init__(self, fields: Sequence[AnnexField]) -> None:
        self.fields = list(fields)
        self.exact: dict[str, list[AnnexField]] = {}
        for f in self.fields:
            for label in f.labels:
                key = fold(label)
                if key and f not in self.exact.setdefault(key, []):
                    self.exact[key].append(f)
        self.long = [(key, fs) for key, fs in self.exact.items() if len(key) >= FUZZY_MIN_LENGTH]

    def match(self, head: str, *, fuzzy: bool = True) -> AnnexField | None:
        key = fold(head)
        if not key or len(key) > 120:
            return None
        found = self.exact.get(key)
        if found:
            return _prefer_annex(found)
        if not fuzzy or len(key) < FUZZY_MIN_LENGTH:
            return None
        best: dict[str, float] = {}
        owner: dict[str, AnnexField] = {}
        for label, fs in self.long:
            score = fuzz.ratio(key, label)
            for f in fs:
                if score > best.get(f.id, 0):
                    best[f.id], owner[f.id] = score, f
        if not best:
            return None
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        top_id, top = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if top >= FUZZY_MIN and top - second >= FUZZY_MARGIN:
            return owner[top_id]
        return None


def _prefer_annex(found: list[AnnexField]) -> AnnexField | None:
    """An alias shared by a party field and a question belongs to the question that was asked."""
    annex = [f for f in found if f.annex]
    pool = annex or found
    return pool[0] if len(pool) == 1 else None


_NUMBERED = re.compile(
    r"^\s*(?:(?:vraag|question|punt|point|nr|no|n°|q)\.?\s*)?(\d{1,2})"
    r"(?:\s*[:)]\s*|\.\s+|\.$|\s*[-–—]\s+|\s*=\s*)(.*)$",
    re.I,
)
_LABELLED = re.compile(r"^\s*(?:[-*•]\s*)?\**([^:=\n]{1,90}?)\**\s*(?::|=|\s[-–—]\s)\s*(.*)$")
_PROPOSAL_PREFIX = re.compile(
    r"^(voorstel|proposition|proposal|antwoord|r[ée]ponse|answer)\s*:\s*", re.I
)


def strip_label(value: str, f: AnnexField, matcher: LabelMatcher) -> str:
    """'Aard en doel van de verwerking: X' → 'X'; 'Voorstel: X' → 'X'."""
    value = value.strip()
    m = _LABELLED.match(value)
    if m and matcher.match(m.group(1)) is f:
        value = m.group(2).strip()
    else:
        folded = fold_same_length(value)
        for label in sorted(f.labels, key=len, reverse=True):
            lab = fold_same_length(label.strip())
            # Only "Label: X" or a bare "Label": "Durée du contrat" is an answer, not a label.
            rest = value[len(lab) :]
            if lab and folded.startswith(lab) and re.match(r"\s*([:=\-–—]|$)", rest):
                value = rest.lstrip(" \t:=-–—")
                break
    return _PROPOSAL_PREFIX.sub("", value).strip()


def _marker(
    line: str, by_number: dict[int, AnnexField], matcher: LabelMatcher
) -> tuple[AnnexField, str, str] | None:
    """(field, first-line value, source) when the line starts an answer."""
    m = _NUMBERED.match(line)
    if m and int(m.group(1)) in by_number:
        numbered = by_number[int(m.group(1))]
        return numbered, strip_label(m.group(2), numbered, matcher), "numbered"
    m = _LABELLED.match(line)
    labelled = matcher.match(m.group(1)) if m else None
    if m and labelled is not None:
        return labelled, _PROPOSAL_PREFIX.sub("", m.group(2).strip()), "label"
    # A line that is exactly a label (no colon): the answer follows on the next lines.
    stripped = line.strip().rstrip(":").strip("*")
    if len(fold(stripped).split()) >= 2:
        bare = matcher.match(stripped, fuzzy=False)
        if bare is not None:
            return bare, "", "label"
    return None


def read_marked(
    lines: Sequence[str], fields: Sequence[AnnexField], skip: frozenset[int] = frozenset()
) -> tuple[list[Answer], set[int]]:
    """Numbered ('3: …', '3) …', '3. …') and labelled ('Duur: …') answers, several lines each.

    An answer runs to the next answer or a blank line, so remarks between or below the answers
    stay free text. Returns the answers and the line numbers they used.
    """
    matcher = LabelMatcher(fields)
    by_number = {f.number: f for f in fields if f.annex and f.number}
    markers: list[tuple[int, AnnexField, str, str]] = []
    for i, line in enumerate(lines):
        if i in skip:
            continue
        found = _marker(clean(line), by_number, matcher)
        if found:
            markers.append((i, *found))
    answers: list[Answer] = []
    used: set[int] = set()
    for k, (i, f, first, source) in enumerate(markers):
        end = len(lines) if k == len(markers) - 1 else markers[k + 1][0]
        parts = [first] if first else []
        used.add(i)
        for j in range(i + 1, end):
            if j in skip:
                break
            text = clean(lines[j]).strip()
            if not text:
                # A blank line ends the answer; text below it is the customer's own again.
                if parts:
                    break
                continue
            parts.append(text)
            used.add(j)
        value = "\n".join(parts).strip()
        if not parts:
            value = ""
        answers.append(Answer(f, value, i, source))
    return answers, used


_DETERMINER = r"(?:(?:de|het|la|le|les|l'|the|onze|our|notre|nos|uw|votre|ons|mijn|my|this)\s+)?"
_VERB = (
    r"(?:is|zijn|bedraagt|bedragen|wordt|worden|est|sont|sera|seront|are|will be|equals|"
    r"=|:)"
)


class SentenceReader:
    """'De duur is gelijk aan de looptijd van het contract' → duration."""

    def __init__(self, fields: Sequence[AnnexField]) -> None:
        self.matcher = LabelMatcher([f for f in fields if f.annex])
        labels = sorted(
            {fold_same_length(lbl.strip()) for f in fields if f.annex for lbl in f.labels},
            key=len,
            reverse=True,
        )
        alternation = "|".join(re.escape(lbl) for lbl in labels if lbl)
        self.pattern = re.compile(
            rf"^\s*{_DETERMINER}(?P<label>{alternation})\s+{_VERB}\s+(?P<value>\S.*)$", re.S
        )

    def read(self, sentence: str) -> tuple[AnnexField, str] | None:
        sentence = clean(sentence).strip()
        if not sentence or sentence.endswith("?") or len(sentence) > 1000:
            return None
        m = self.pattern.match(fold_same_length(sentence))
        if not m:
            return None
        f = self.matcher.match(sentence[m.start("label") : m.end("label")], fuzzy=False)
        if f is None:
            return None
        value = sentence[m.start("value") :].strip().rstrip(".").strip()
        # "La durée est de 5 ans" → "5 ans".
        value = re.sub(r"^(de|d')\s*(?=\d)", "", value)
        return (f, value) if value else None


# Abbreviations whose period does not end a sentence ("art. 7", "bv. 5 jaar", "p. ex.").
_ABBREVIATIONS = frozenset(
    "art arts nr bv vb ca cf resp ex eg ie dhr mevr mr mme st tel max min".split()
)


def sentences(text: str) -> list[str]:
    """Sentences of free text: split at . ! ? before a capital or a line end, and at line ends."""
    out: list[str] = []
    for line in text.split("\n"):
        start = 0
        for m in re.finditer(r"[.!?]+\s+(?=\S)", line):
            before = re.search(r"(\w+)\W*$", line[start : m.start() + 1])
            word = before.group(1).lower() if before else ""
            nxt = line[m.end()]
            if line[m.start()] == "." and (word in _ABBREVIATIONS or len(word) == 1):
                continue
            if nxt.islower() or nxt.isdigit():
                continue
            out.append(line[start : m.end()].strip())
            start = m.end()
        if line[start:].strip():
            out.append(line[start:].strip())
    return out
