"""From answers found in a reply to checked field values, and the plain-text reader (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from handlers.reader.answers import Answer, read_marked
from handlers.reader.closing import asks_to_edit, is_confirmation
from handlers.reader.intent import Intent, read_intent
from handlers.reader.model import AnnexField, Interpretation
from handlers.reader.prose import SentenceReader, sentences
from handlers.text.lang import clean, detect_language
from handlers.text.validate import check_value, reason

__all__ = [
    "AnnexField",
    "Interpretation",
    "apply_answers",
    "apply_intent",
    "interpret",
    "missing_fields",
    "sentence_answers",
]

# "3: klopt" confirms the proposed value.
_CONFIRM = re.compile(
    r"^(ok(é|e|ay)?|okido|klopt( zo)?|juist|correct|ja|yes|yep|oui|akkoord|d'accord|goed|prima|"
    r"in orde|bevestigd|bevestig|confirmed?|confirm[ée]e?|exact|c'est (correct|bon|exact)|"
    r"that'?s (right|correct|fine)|fine|agreed|zoals voorgesteld|comme propos[ée]|as proposed|"
    r"idem|ok voor (mij|ons)|ok pour (moi|nous)|fine by me|geen opmerkingen|pas de remarques?|"
    r"no (changes|remarks))"
    r"([\s,.!]+(ok(é|e)?|klopt|correct|merci|thanks|bedankt|dank u))*[\s.!]*$",
    re.I,
)
# "n.v.t." is a fair answer to a question that does not apply (no DPO): kept as text.
_NOT_APPLICABLE = re.compile(
    r"^(n\.?v\.?t\.?|niet van toepassing|nvt|geen|n/?a|not applicable|none|sans objet|"
    r"pas d'application|non applicable|aucun|aucune|neant|néant|-)[\s.!]*$",
    re.I,
)


def _kind(f: AnnexField) -> str:
    return "duration" if f.id == "duration" else f.type


def apply_answers(
    result: Interpretation,
    answers: Sequence[Answer],
    known: dict[str, str] | None,
) -> None:
    """Fill result.fields/invalid/questions/notes from answers in reading order (last one wins)."""
    final: dict[str, Answer] = {}
    for a in answers:
        prev = final.get(a.field.id)
        if prev is not None and clean(prev.value).strip() != clean(a.value).strip():
            result.notes.append(f"{a.field.id} was answered twice; the last answer counts")
        final[a.field.id] = a
    for fid, a in final.items():
        f = a.field
        value = clean(a.value).strip()
        proposal = (known or {}).get(fid) or f.default
        if not value:
            continue
        if a.source == "edit" or asks_to_edit(value):
            # Neither filled nor confirmed: the follow-up asks for the full wording.
            result.invalid[fid] = reason("edit_request", result.language)
            result.fields.pop(fid, None)
            continue
        confirms = bool(_CONFIRM.match(value)) or is_confirmation(value)
        if value.endswith("?") and "\n" not in value and not confirms:
            # "3. Wat bedoelt u met aard?" asks; it does not answer.
            result.questions.append(value)
            continue
        if confirms:
            if not proposal:
                result.notes.append(f"{fid} was confirmed but has no proposal to confirm")
                continue
            value = proposal
        if value == f.default or value == proposal:
            result.fields[fid] = value  # the tenant's own proposal needs no check
            continue
        if not f.required and _NOT_APPLICABLE.match(value):
            result.fields[fid] = value
            continue
        stored, error = check_value(_kind(f), value, result.language)
        if error:
            result.invalid[fid] = error
            result.fields.pop(fid, None)
        else:
            result.fields[fid] = stored


def sentence_answers(
    lines: Sequence[str], fields: Sequence[AnnexField], used: set[int]
) -> list[Answer]:
    """'De duur is …' sentences in lines not used by other answers; their lines become used."""
    reader = SentenceReader(fields)
    found: list[Answer] = []
    for i, line in enumerate(lines):
        if i in used:
            continue
        said = sentences(line)
        for s in said:
            hit = reader.read(s)
            if hit:
                found.append(Answer(hit[0], hit[1], i, "sentence"))
                if len(said) == 1:
                    # A line of one sentence is that answer; in a paragraph the other
                    # sentences stay the customer's words ("Le reste nous convient.").
                    used.add(i)
    return found


def missing_fields(
    fields: Sequence[AnnexField], result: Interpretation, known: dict[str, str] | None
) -> list[str]:
    """Required questions with no value agreed so far nor now, and not invalid now."""
    agreed = {k: v for k, v in (known or {}).items() if v}
    agreed.update(result.fields)
    return [
        f.id
        for f in sorted((f for f in fields if f.annex), key=lambda f: f.number)
        if f.required and not agreed.get(f.id) and f.id not in result.invalid
    ]


def interpret(
    text: str,
    fields: Sequence[AnnexField],
    known: dict[str, str] | None = None,
    *,
    language: str | None = None,
) -> Interpretation:
    """What the customer's own words (quotes already stripped) say, given the questions."""
    text = clean(text)
    lang = language or detect_language(text)[0]
    result = Interpretation(language=lang)
    lines = text.split("\n")
    answers, used = read_marked(lines, fields)
    answers += sentence_answers(lines, fields, used)
    answers.sort(key=lambda a: a.line)
    apply_answers(result, answers, known)
    # Intent is read only outside answers, so "1: akkoord" confirms a value, not the contract.
    intent = read_intent("\n".join(ln for i, ln in enumerate(lines) if i not in used))
    apply_intent(result, intent, fields, known)
    result.missing = missing_fields(fields, result, known)
    return result


def apply_intent(
    result: Interpretation,
    intent: Intent,
    fields: Sequence[AnnexField],
    known: dict[str, str] | None,
) -> None:
    """Copy accept/decline/changes/questions; "alles klopt" confirms every open proposal."""
    result.accept = intent.accept
    result.decline = intent.decline
    result.change_requests = intent.change_requests
    result.questions = [*result.questions, *intent.questions]
    if intent.confirm_all:
        # "Alles klopt": every proposal not answered otherwise is confirmed.
        for f in fields:
            proposal = (known or {}).get(f.id) or f.default
            if f.annex and proposal and f.id not in result.fields and f.id not in result.invalid:
                result.fields[f.id] = proposal
