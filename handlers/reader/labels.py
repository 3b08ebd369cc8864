"""Which field a label names (exact, fuzzy or nearly) and a value's label cut off (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz import fuzz

from handlers.reader.model import AnnexField
from handlers.text.lang import fold, fold_same_length

# A fuzzy label match must be this close (0-100) and this far ahead of any other field's best:
# "Aard en doel van de verwerkng" is the nature and purpose, "Duur" vs "Doel" is nobody's.
FUZZY_MIN = 88
FUZZY_MARGIN = 6
FUZZY_MIN_LENGTH = 6
# Between this and FUZZY_MIN a label is too uncertain to fill, but worth asking back.
NEAR_MIN = 80
# Words a label may drop or abbreviate ("Onderwerp vd verwerking", "Categorie betrokkenen").
_LABEL_STOPWORDS = frozenset(
    "van de het der den des du la le les l d of the a an vd vh v en et and zijn sont are is".split()
)


def _content(text: str) -> str:
    """A label's content words, plurals and -e endings cut: "Categorien betrokkene" and
    "Categorieën van betrokkenen" both become "categorie betrokken"."""
    out = []
    for w in fold(text).split():
        if w in _LABEL_STOPWORDS:
            continue
        for suffix, keep in (("ieen", "ie"), ("ies", "y"), ("en", ""), ("e", ""), ("s", "")):
            if w.endswith(suffix) and len(w) - len(suffix) >= 4:
                w = w[: len(w) - len(suffix)] + keep
                break
        out.append(w)
    return " ".join(out)


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
        self.near_hit = False
        self.long = [(key, fs) for key, fs in self.exact.items() if len(key) >= FUZZY_MIN_LENGTH]
        self.content: dict[str, list[AnnexField]] = {}
        for key, fs in self.exact.items():
            c = _content(key)
            if len(c) >= FUZZY_MIN_LENGTH:
                for f in fs:
                    if f not in self.content.setdefault(c, []):
                        self.content[c].append(f)

    def match(self, head: str, *, fuzzy: bool = True, near: bool = False) -> AnnexField | None:
        """The field of a label. ``near``: also one only somewhat like a label (NEAR_MIN), which
        sets ``near_hit``: the caller asks it back instead of filling it in."""
        self.near_hit = False
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
        content = _content(key)
        for label, fs in self.long:
            score = fuzz.ratio(key, label)
            for f in fs:
                if score > best.get(f.id, 0):
                    best[f.id], owner[f.id] = score, f
        for label, fs in self.content.items() if len(content) >= FUZZY_MIN_LENGTH else ():
            # The same words, abbreviated or in another number: as good as the label itself.
            score = fuzz.ratio(content, label)
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
        if near and top >= NEAR_MIN and top - second >= FUZZY_MARGIN:
            self.near_hit = True
            return owner[top_id]
        return None


def _prefer_annex(found: list[AnnexField]) -> AnnexField | None:
    """An alias shared by a party field and a question belongs to the question that was asked."""
    annex = [f for f in found if f.annex]
    pool = annex or found
    return pool[0] if len(pool) == 1 else None


LABELLED = re.compile(r"^\s*(?:[-*•]\s*)?\**([^:=\n]{1,90}?)\**\s*(?::|=|\s[-–—]\s)\s*(.*)$")
PROPOSAL_PREFIX = re.compile(
    r"^(voorstel|proposition|proposal|antwoord|r[ée]ponse|answer)\s*:\s*", re.I
)


# An explanation before the answer itself: "…, dus graag: naam, gsm", "…, donc : nom".
_LEAD_IN = re.compile(
    r"^[^\n:]{0,120}?\b(?:dus\s+graag|dus|graag|namelijk|donc|à\s+savoir|soit|so|namely|"
    r"i\.e\.|instead)\s*:\s*(?=\S)",
    re.I,
)


# "nous voulons une durée de 5 ans maximum" → "5 ans maximum": the field named, then its value.
_WANT_LEAD = re.compile(
    r"^(?:nous\s+(?:voulons|souhaitons|pr[ée]f[ée]rons)|wij\s+(?:willen|wensen)|we\s+(?:willen|"
    r"wensen|want|would\s+like|prefer)|we'd\s+like|ik\s+wil|je\s+veux|i\s+want|i'd\s+like)\s+"
    r"(?:une?|een|a|an)\s+(?P<label>[^\W\d][\w' -]{2,40}?)\s+(?:de|d'|van|of)\s*(?P<value>\S.*)$",
    re.I,
)


def strip_label(value: str, f: AnnexField, matcher: LabelMatcher) -> str:
    """'Aard en doel van de verwerking: X' → 'X'; 'Voorstel: X' → 'X'."""
    value = value.strip()
    m = LABELLED.match(value)
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
    value = _LEAD_IN.sub("", value)
    wanted = _WANT_LEAD.match(value)
    if wanted and matcher.match(wanted.group("label")) is f:
        value = wanted.group("value")
    return PROPOSAL_PREFIX.sub("", value).strip()


def looks_labelled(text: str) -> bool:
    m = LABELLED.match(text)
    if m is None:
        return False
    return 1 <= len(m.group(1).split()) <= 5 and bool(m.group(2).strip())
