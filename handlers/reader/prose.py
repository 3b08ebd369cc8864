"""Answers said in a sentence ('De duur is …'), and free text cut into sentences (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from handlers.reader.labels import LabelMatcher
from handlers.reader.model import AnnexField
from handlers.text.lang import clean, fold_same_length

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
        self.duration = next((f for f in fields if f.annex and f.id == "duration"), None)
        self.pattern = re.compile(
            rf"^\s*{_DETERMINER}(?P<label>{alternation})\s+{_VERB}\s+(?P<value>\S.*)$", re.S
        )

    def read(self, sentence: str) -> tuple[AnnexField, str] | None:
        sentence = clean(sentence).strip()
        if not sentence or sentence.endswith("?") or len(sentence) > 1000:
            return None
        labelled = self._labelled(sentence)
        if labelled is not None:
            return labelled
        kept = retention(sentence)
        if kept and self.duration is not None:
            return self.duration, kept
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

    def _labelled(self, sentence: str) -> tuple[AnnexField, str] | None:
        """ "La durée : tant que …", "Wat de duur betreft: …", "The duration: …" inside prose."""
        m = _PROSE_LABEL.match(sentence)
        if not m:
            return None
        f = self.matcher.match(m.group("label"))
        if f is None:
            return None
        value = m.group("value").strip()
        quoted = QUOTED.search(value)
        if quoted:  # 'ik zou schrijven "…"': the wording they want is the quoted part
            value = quoted.group(1)
        elif f.id == "duration":  # "La durée : nous conservons les données tant que …"
            value = retention(value) or value
        value = value.strip().rstrip(".").strip()
        return (f, value) if value else None


# "Wij bewaren de gegevens zolang de samenwerking loopt", "nous conservons les données tant que
# …", "we keep client data for two years": how long they keep the data is the duration.
_RETENTION = re.compile(
    r"^(?:wij|we|ik|nous|je|on|i)\s+(?:\w+\s+){0,2}?(?:bewaren|bewaar|houden|behouden|keep|store|"
    r"retain|hold|conserv\w*|gard\w*)\s+(?:[^\s,;:]+\s+){0,5}?(?P<value>(?:zolang|tot(?:dat)?|"
    r"gedurende|tant\s+que|aussi\s+longtemps|pendant|jusqu|as\s+long\s+as|for|until|during)\b.*)$",
    re.I,
)


def retention(sentence: str) -> str:
    """The time in a sentence about keeping the data, or ''."""
    m = _RETENTION.match(clean(sentence).strip())
    return m.group("value").strip().rstrip(".").strip() if m else ""


_PROSE_LABEL = re.compile(
    r"^(?:(?:wat|quant\s+[àa]|as\s+for|regarding|concerning|concernant|en\s+ce\s+qui\s+concerne|"
    r"betreffende|pour|voor|bij|for)\s+)?"
    r"(?:(?:de|het|la|le|les|l'|the|onze|our|nos|notre)\s*)?(?P<label>[^:;\n]{3,60}?)"
    r"(?:\s+betreft|\s+concern[ée]e?s?)?\s*:\s*(?P<value>\S.*)$",
    re.I,
)
QUOTED = re.compile(r"[\"“„«]\s*([^\"”»“]{3,})\s*[\"”»]")


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
