"""Answers written between the quoted questions of the invitation ('> 3. Aard en doel …') (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz import fuzz

from handlers.reader.answers import Answer
from handlers.reader.closing import ends_answer
from handlers.reader.labels import LabelMatcher, strip_label
from handlers.reader.model import AnnexField
from handlers.reader.quotes import is_quoted, is_signature, reply_header
from handlers.text.lang import clean, fold

_QUESTION_HEAD = re.compile(r"^\s*(\d{1,2})\s*[.):]\s*(.*)$")
# An answer the customer flagged inside the quoted text ("=> ok", "Antwoord: …").
_MARKED_ANSWER = re.compile(
    r"^(?:=>|->|→|»|antwoord\s*:|r[ée]ponse\s*:|answer\s*:)\s*(\S.*)$", re.I
)
_PROPOSAL_LINE = re.compile(r"^(voorstel|proposition|proposal)\s*:", re.I)


def _unquote(line: str) -> str:
    return re.sub(r"^(\s*>)+ ?", "", clean(line)).strip()


def _question_of(
    line: str, by_number: dict[int, AnnexField], matcher: LabelMatcher
) -> AnnexField | None:
    """The field whose quoted heading ('3. Aard en doel van de verwerking') this line is."""
    m = _QUESTION_HEAD.match(line)
    if not m or int(m.group(1)) not in by_number:
        return None
    f = by_number[int(m.group(1))]
    rest = m.group(2).strip().strip("*").strip()
    if matcher.match(rest) is f:
        return f
    # Clients wrap or shorten long headings: the start of a label is enough.
    key = fold(rest)
    if key and any(fuzz.partial_ratio(key, fold(lbl)) >= 90 for lbl in f.labels if lbl):
        return f
    return None


def _belongs_to_question(line: str, f: AnnexField) -> bool:
    """The quoted question sentence or the proposal of the current question."""
    if _PROPOSAL_LINE.match(line):
        return True
    key = fold(line)
    return bool(key) and any(fuzz.ratio(key, fold(q)) >= 90 for q in f.questions)


def _add(
    collected: dict[str, tuple[AnnexField, int, list[str]]],
    order: list[str],
    f: AnnexField,
    line: int,
    text: str,
) -> None:
    if f.id not in collected:
        collected[f.id] = (f, line, [])
        order.append(f.id)
    collected[f.id][2].append(text)


def read_inline(
    lines: Sequence[str], fields: Sequence[AnnexField], *, sender: str = ""
) -> tuple[list[Answer], set[int]]:
    """Unquoted lines below a quoted question answer it, until the next quoted question.

    Runs on the text with the quoted original still in it (quoted lines start with '>').
    Returns the answers and the line numbers they used (these are not free text).
    """
    annex = [f for f in fields if f.annex and f.number]
    by_number = {f.number: f for f in annex}
    matcher = LabelMatcher(annex)
    current: AnnexField | None = None
    after_blank = False
    collected: dict[str, tuple[AnnexField, int, list[str]]] = {}
    order: list[str] = []
    used: set[int] = set()
    for i, raw in enumerate(lines):
        if is_quoted(raw):
            line = _unquote(raw)
            if not line:
                after_blank = True
                continue
            f = _question_of(line, by_number, matcher)
            marked = _MARKED_ANSWER.match(line)
            if f is None and current is not None and marked:
                # Outlook keeps no '>' marks: answers typed into the original are flagged.
                _add(collected, order, current, i, marked.group(1))
                used.add(i)
                continue
            if f is not None:
                current, after_blank = f, False
            elif after_blank and current is not None and not _belongs_to_question(line, current):
                # A new quoted paragraph that is not a question: the questions are over.
                current = None
            continue
        if current is None or not raw.strip():
            continue
        if reply_header(list(lines), i) or is_signature(list(lines), i):
            current = None
            continue
        if current.id in collected and ends_answer(raw, sender):
            current = None  # "Agreed" then their name: the name is no part of the answer
            continue
        _add(collected, order, current, i, clean(raw).strip())
        used.add(i)
    answers = []
    for fid in order:
        f, first, parts = collected[fid]
        value = strip_label("\n".join(parts), f, matcher)
        answers.append(Answer(f, value, first, "inline"))
    return answers, used
