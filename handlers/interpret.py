"""Read a customer's own words: annex answers, acceptance, decline (pure)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from handlers.validate import validate_value


@dataclass(frozen=True)
class AnnexField:
    """What the reader needs to know of one question of the invitation."""

    id: str
    number: int
    labels: tuple[str, ...]
    default: str = ""
    type: str = "text"
    required: bool = True


@dataclass
class Interpretation:
    fields: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)
    accept: bool = False
    decline: bool = False
    change_requests: list[dict[str, str | None]] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    auto_reply: bool = False
    language: str = "nl"
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "fields": self.fields,
            "missing": self.missing,
            "invalid": self.invalid,
            "accept": self.accept,
            "decline": self.decline,
            "change_requests": self.change_requests,
            "questions": self.questions,
            "auto_reply": self.auto_reply,
            "language": self.language,
        }


_NUMBERED = re.compile(r"^\s*(?:vraag\s*|question\s*)?(\d{1,2})\s*[.:)\-]\s*(.*)$", re.I)
_CONFIRM = re.compile(
    r"^(ok(é|e|ay)?|klopt|juist|correct|ja|yes|oui|akkoord|d'accord|c'est correct|that's right)"
    r"[\s.!]*$",
    re.I,
)
# "niet akkoord" / "pas d'accord" / "do not agree" are declines, never acceptance.
_DECLINE = re.compile(
    r"\b(niet\s+akkoord|niet\s+mee\s+akkoord|ga\s+niet\s+akkoord|weiger\w*|pas\s+d'accord|"
    r"je\s+refuse|refus\w*|(do\s+)?not\s+agree|i\s+decline|declined?)\b",
    re.I,
)
_ACCEPT = re.compile(
    r"\b(akkoord|ik\s+ga\s+akkoord|goedgekeurd|d'accord|j'accepte|i\s+agree|agreed|approved)\b",
    re.I,
)


def _norm(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()


def _label_match(line: str, fields: Sequence[AnnexField]) -> tuple[AnnexField, str] | None:
    """'Label: value' where the label is one of a field's labels or aliases."""
    head, sep, rest = line.partition(":")
    if not sep:
        return None
    key = _norm(head)
    if not key:
        return None
    for f in fields:
        if any(_norm(lbl) == key for lbl in f.labels):
            return f, rest.strip()
    return None


def _strip_label(value: str, f: AnnexField) -> str:
    """'3. Aard en doel van de verwerking: X' → 'X'."""
    m = _label_match(value, [f])
    return m[1] if m else value


def _detect_language(text: str) -> str:
    t = f" {_norm(text)} "
    scores = {
        "nl": sum(t.count(f" {w} ") for w in ("de", "het", "van", "en", "een", "met", "groeten")),
        "fr": sum(
            t.count(f" {w} ") for w in ("le", "la", "les", "des", "et", "une", "cordialement")
        ),
        "en": sum(t.count(f" {w} ") for w in ("the", "and", "of", "with", "regards", "is")),
    }
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > 0 else "nl"


def _read_answers(text: str, fields: Sequence[AnnexField]) -> tuple[dict[str, str], list[str]]:
    by_number = {f.number: f for f in fields}
    answers: dict[str, str] = {}
    notes: list[str] = []
    current: AnnexField | None = None
    buf: list[str] = []

    def flush() -> None:
        nonlocal current, buf
        if current is not None:
            value = "\n".join(buf).strip()
            if current.id in answers and value:
                notes.append(f"{current.id} was answered twice; the last answer counts")
            if value:
                answers[current.id] = value
        current, buf = None, []

    for line in text.split("\n"):
        m = _NUMBERED.match(line)
        target: tuple[AnnexField, str] | None = None
        if m and int(m.group(1)) in by_number:
            f = by_number[int(m.group(1))]
            target = (f, _strip_label(m.group(2).strip(), f))
        else:
            target = _label_match(line.strip(), fields)
        if target is not None:
            flush()
            current, buf = target[0], [target[1]] if target[1] else []
        elif current is not None:
            if not line.strip():
                if buf:  # a blank line after some text ends the answer
                    flush()
            else:
                buf.append(line.strip())
    flush()
    return answers, notes


def interpret(
    text: str,
    fields: Sequence[AnnexField],
    known: dict[str, str] | None = None,
) -> Interpretation:
    """What the reply says, given the questions and the values already agreed (known)."""
    # Phones and mail clients turn D'ACCORD into D’ACCORD: read both the same way.
    text = text.replace("\u2019", "'").replace("\u02bc", "'")
    result = Interpretation(language=_detect_language(text))
    answers, result.notes = _read_answers(text, fields)
    by_id = {f.id: f for f in fields}
    for fid, value in answers.items():
        f = by_id[fid]
        if _CONFIRM.match(value) and f.default:
            value = f.default  # "3: klopt" confirms the proposed value
        error = validate_value(f.type, value)
        if error:
            result.invalid[fid] = error
        else:
            result.fields[fid] = value
    # Acceptance is read only outside answers, so "1: akkoord" confirms a value, not the contract.
    free = "\n".join(
        ln
        for ln in text.split("\n")
        if not _NUMBERED.match(ln) and _label_match(ln.strip(), fields) is None
    )
    result.decline = bool(_DECLINE.search(free))
    result.accept = bool(_ACCEPT.search(free)) and not result.decline
    agreed = dict(known or {})
    agreed.update(result.fields)
    result.missing = [
        f.id
        for f in sorted(fields, key=lambda f: f.number)
        if f.required and not agreed.get(f.id) and f.id not in result.invalid
    ]
    for line in free.split("\n"):
        if line.strip().endswith("?"):
            result.questions.append(line.strip())
    return result
