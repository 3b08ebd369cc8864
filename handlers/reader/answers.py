"""Find field answers in the customer's words: numbered, labelled, corrected, confirmed (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from handlers.reader.closing import asks_to_edit, ends_answer, is_confirmation
from handlers.reader.labels import (
    LABELLED,
    PROPOSAL_PREFIX,
    LabelMatcher,
    looks_labelled,
    strip_label,
)
from handlers.reader.model import AnnexField
from handlers.reader.prose import QUOTED
from handlers.text.lang import clean, fold


@dataclass
class Answer:
    """One answer found in the text, with the line it starts on (for order and free text)."""

    field: AnnexField
    value: str
    line: int
    source: str  # numbered | label | sentence | inline | form


_NUMBERED = re.compile(
    r"^\s*(?:(?:bij|voor|pour|for|at|au|à|op)\s+(?:(?:de|het|la|le|the)\s+)?)?"
    r"(?:(?:vraag|question|punt|point|nr|no|n°|q|number|nummer)\.?\s*)?(\d{1,2})"
    # "1.ok" (no space, on a phone): a period straight before a letter still numbers.
    r"(?:\s*[:)/]\s*|\.\s+|\.$|\.(?=[^\W\d_])|\s*[-–—]\s+|\s*=\s*)(.*)$",
    re.I,
)
_BARE_NUMBER = re.compile(r"^\s*(\d{1,2})\s+(\S.*)$")
# "Sorry, punt 3 moet zijn: …", "Correction : 4 doit être …", "2 should be …", "I meant …".
_CORRECTION_VERB = (
    r"(?:moet\s+(?:het\s+)?(?:zijn|worden)|moet\s+er\s+staan|lees(?:\s+ook)?|lees\s+(?:daar|hier)|"
    r"dient\s+te\s+zijn|wordt|doit\s+[êe]tre|devrait\s+[êe]tre|lire|il\s+faut\s+lire|"
    r"should\s+(?:be|read|say)|must\s+be|read|i\s+meant|je\s+voulais\s+dire|bedoelde\s+ik|"
    # "pour le 4, c'est plutôt « … »", "4 is eigenlijk …", "4 is actually …"
    r"c'?\s*est\s+plut[ôo]t|c'?\s*est\s+en\s+fait|is\s+eigenlijk|is\s+actually)"
)
_CORRECTION = re.compile(
    r"^\W*(?:(?:sorry|pardon|oeps|oops|excuses|excusez-moi|d[ée]sol[ée]e?|erratum|correcti[eo]n?"
    r"|verbetering|rectificati[eo]n?|kleine\s+correctie|petite\s+correction|small\s+correction)"
    r"\W+)*(?:(?:bij|voor|in|au|à|a|at|for|in|op|pour)\s+)?(?:(?:de|het|la|le|the)\s+)?"
    r"(?:(?:punt|vraag|nr\.?|nummer|point|question|no\.?|n°|q)\s*)?(?P<num>\d{1,2})\b"
    rf"(?:\s*[:.)])?\s*,?\s*{_CORRECTION_VERB}\s*[:=]?\s*(?P<value>\S.*)$",
    re.I,
)
_CORRECTION_PREFIX = re.compile(
    r"^\W*(?:sorry|pardon|correcti[eo]n?|erratum|rectificati[eo]n?|verbetering)\s*[:,-]\s*(?=\d)",
    re.I,
)
# "Actually I meant "order processing", not …": the answer just given, said again.
_MEANT = re.compile(
    r"\b(?:i\s+meant|ik\s+bedoelde|je\s+voulais\s+dire)\s*:?\s*(?P<value>\S.*)$", re.I
)
# "Sorry I meant 2 years for number 2, not 3".
_MEANT_FOR = re.compile(
    r"\b(?:i\s+meant|je\s+voulais\s+dire|ik\s+bedoelde|bedoeld\s+was)\s+(?P<value>.+?)\s+"
    r"(?:for|voor|pour|bij|at)\s+(?:(?:the|de|het|la|le)\s+)?(?:number|nummer|nr\.?|punt|point|"
    r"question|vraag|q)\s*(?P<num>\d{1,2})\b",
    re.I,
)
# "Everything is fine as proposed, except number 5: our clients only".
_EXCEPT = re.compile(
    r"\b(?:except|but|behalve|buiten|uitgezonderd|sauf|hormis|à\s+part)\s+(?:for\s+)?"
    r"(?:(?:de|het|la|le|the)\s+)?(?:number|nummer|nr\.?|punt|point|question|vraag|q)?\s*"
    r"(?P<num>\d{1,2})\s*[:=,]\s*(?P<value>\S.*)$",
    re.I,
)


def _meant_again(lines: Sequence[str], answers: list[Answer], used: set[int]) -> None:
    """ "I meant …" with no number corrects the answer just above it, when there is one."""
    for i, line in enumerate(lines):
        if i in used:
            continue
        m = _MEANT.search(clean(line))
        before = [a for a in answers if a.line < i]
        if not m or not before or _MEANT_FOR.search(line):
            continue
        value = m.group("value")
        quoted = re.search(r"[\"“„«]\s*([^\"”»“]{3,})\s*[\"”»]", value)
        value = quoted.group(1) if quoted else re.split(r",\s*(?:not|pas|niet)\b", value)[0]
        value = value.strip().rstrip(".").strip()
        if value:
            answers.append(Answer(before[-1].field, value, i, "correction"))
            used.add(i)


def read_correction(
    line: str, by_number: dict[int, AnnexField], matcher: LabelMatcher
) -> tuple[AnnexField, str, str] | None:
    """A correction of an earlier answer, read as a new answer to that field (the last wins);
    also "everything is fine, except number 5: …", an answer inside a sentence."""
    m = _CORRECTION.match(line) or _MEANT_FOR.search(line)
    source = "correction"
    if m is None:
        m = _EXCEPT.search(line)
        source = "except"  # the rest of its sentence ("everything is fine …") still counts
    if m and int(m.group("num")) in by_number:
        f = by_number[int(m.group("num"))]
        value = m.group("value").strip()
        quoted = QUOTED.match(value)
        if quoted:  # "c'est plutôt « nom, prénom », on l'utilise pour …": the quoted wording
            value = quoted.group(1)
        value = value.strip("«»\"“”„'").strip().rstrip(".").strip()
        value = value.strip("«»\"“”„'").strip()
        if source == "except" and _remark_after_comma(line, m.start("value")):
            source = "edit"  # "alles ok behalve 4, geboortedatum vragen wij niet"
        return f, strip_label(value, f, matcher), source
    return None


# "…behalve 4, geboortedatum vragen wij niet": after a comma (not a colon) comes a remark about
# the proposal ("we" and a negation), not the wording for the contract.
_FIRST_PERSON_NOT = re.compile(
    r"^(?=.*\b(?:wij|we|ik|nous|je|on|i)\b)(?=.*(?:\b(?:niet|geen|nooit|pas|jamais|not|never|no)"
    r"\b|n't\b|\bdont\b|\bn'))[^,;:]{1,100}$",
    re.I,
)


def _remark_after_comma(line: str, start: int) -> bool:
    before = line[:start].rstrip()
    return before.endswith(",") and bool(_FIRST_PERSON_NOT.match(line[start:].strip()))


def _marker(
    line: str, by_number: dict[int, AnnexField], matcher: LabelMatcher
) -> tuple[AnnexField, str, str] | None:
    """(field, first-line value, source) when the line starts an answer."""
    m = _NUMBERED.match(_CORRECTION_PREFIX.sub("", line))
    if m and int(m.group(1)) in by_number:
        numbered = by_number[int(m.group(1))]
        return numbered, strip_label(m.group(2), numbered, matcher), "numbered"
    correction = read_correction(line, by_number, matcher)
    if correction is not None:
        return correction
    # "Oei, ik ben iets vergeten. 4 moet zijn: …": a correction after a first sentence.
    for later in re.split(r"(?<=[.!?])\s+", line)[1:]:
        m = _CORRECTION.match(later)
        if m and int(m.group("num")) in by_number:
            return read_correction(later, by_number, matcher)
    # "3 klopt ook": a number and a confirmation, with no separator between them.
    m = _BARE_NUMBER.match(line)
    if m and int(m.group(1)) in by_number and is_confirmation(m.group(2)):
        return by_number[int(m.group(1))], m.group(2).strip(), "numbered"
    m = LABELLED.match(line)
    labelled = matcher.match(m.group(1), near=True) if m else None
    if m and labelled is not None:
        source = "uncertain" if matcher.near_hit else "label"
        return labelled, PROPOSAL_PREFIX.sub("", m.group(2).strip()), source
    # A line that is exactly a label (no colon): the answer follows on the next lines.
    stripped = line.strip().rstrip(":").strip("*")
    if len(fold(stripped).split()) >= 2:
        bare = matcher.match(stripped, fuzzy=False)
        if bare is not None:
            return bare, "", "label"
    return None


_QUALIFIER = re.compile(
    r"\s*(?:maar|behalve|buiten|except|but|sauf|mais|hormis|only|alleen|enkel|seulement)\b", re.I
)
_LIST_WORDS = re.compile(
    r"\b(?:net\s+als|zoals|en|ook|evenals|als|ainsi\s+que|comme|et|aussi|de\s+m[êe]me\s+que|"
    r"as\s+well\s+as|as\s+do|as\s+does|and|also|too|punten|points|vragen|questions|nr|nrs)\b",
    re.I,
)


# "8 à 10 : …" read as a bare "8": its text would start with the rest of the range.
_RANGE_REST = re.compile(r"^(?:-|–|t/m|tot|à|a|au|to|through|thru)\s*\d", re.I)

_RANGE = re.compile(
    r"\b(\d{1,2})\s*(?:-|–|t/m|tot\s+en\s+met|tot|à|a|au|to|through|thru)\s*(\d{1,2})\b", re.I
)


def confirmed_numbers(line: str, by_number: dict[int, AnnexField]) -> list[AnnexField]:
    """'3 klopt ook, net als 4 en 5', '1, 3 en 5: ok': the questions one line confirms."""
    text = clean(line).strip()
    # "1 tot en met 3", "1-3", "1 à 3", "1 to 3": every number of the range.
    text = _RANGE.sub(
        lambda m: (
            " ".join(str(n) for n in range(int(m[1]), int(m[2]) + 1))
            if int(m[1]) < int(m[2]) <= 20
            else m[0]
        ),
        text,
    )
    numbers = [int(n) for n in re.findall(r"(?<![\d.,])\d{1,2}(?![\d.,]?\d)", text)]
    # "De punten 1 tot en met 7", "Punt 1 en 2", "Les points 1 à 4": the line names the numbers.
    named = re.match(
        r"^\W*(?:(?:de|les|the)\s+)?(?:(?:punten|punt|points|point|vragen|vraag|"
        r"questions|question|nrs?|nummers?)\.?\s*)?(?=\d)",
        text,
        re.I,
    )
    if len(numbers) < 2 or named is None:
        return []
    text = text[named.end() :]
    rest = _LIST_WORDS.sub(" ", re.sub(r"\d+", " ", text))
    if any(n not in by_number for n in numbers):
        return []
    if not is_confirmation(rest):
        # "8 à 10 : correct, c'est le DPO d'ALSO": confirmed, then a remark; never "ok, maar …".
        head, sep, tail = rest.partition(",")
        if not sep or not is_confirmation(head) or asks_to_edit(rest) or _QUALIFIER.match(tail):
            return []
    return [by_number[n] for n in numbers]


def read_marked(
    lines: Sequence[str],
    fields: Sequence[AnnexField],
    skip: frozenset[int] = frozenset(),
    *,
    sender: str = "",
) -> tuple[list[Answer], set[int]]:
    """Numbered ('3: …', '3) …', '3. …') and labelled ('Duur: …') answers, several lines each.

    An answer runs to the next answer or a blank line, so remarks between or below the answers
    stay free text. Returns the answers and the line numbers they used.
    """
    matcher = LabelMatcher(fields)
    by_number = {f.number: f for f in fields if f.annex and f.number}
    markers: list[tuple[int, AnnexField, str, str]] = []
    confirmations: list[Answer] = []
    # "1 ok / 2 3 years / 3 afspraken": numbers with no separator count as answers only when
    # the reply is such a list (three numbers or more), never a lone "5 jaar" in a sentence.
    bare = {
        int(m[1]) for ln in lines if (m := _BARE_NUMBER.match(clean(ln))) and int(m[1]) in by_number
    }
    bare_list = len(bare) >= 3
    for i, line in enumerate(lines):
        if i in skip:
            continue
        several = confirmed_numbers(line, by_number)
        if several:
            confirmations.extend(Answer(f, "ok", i, "numbered") for f in several)
            markers.append((i, several[0], "ok", "numbered"))
            continue
        found = _marker(clean(line), by_number, matcher)
        if found is None and bare_list and (m := _BARE_NUMBER.match(clean(line))):
            if int(m[1]) in by_number and not _RANGE_REST.match(m[2]):
                f = by_number[int(m[1])]
                found = (f, strip_label(m[2], f, matcher), "numbered")
        if found:
            markers.append((i, *found))
    answers: list[Answer] = []
    used: set[int] = set()
    for k, (i, f, first, source) in enumerate(markers):
        end = len(lines) if k == len(markers) - 1 else markers[k + 1][0]
        parts = [first] if first else []
        if source not in ("except", "edit"):
            used.add(i)
        if first and is_confirmation(first):
            # "4 tot en met 7 zijn ok.", "3: klopt": complete on its line; what follows is the
            # customer's own again (another confirmation, a remark), never part of this answer.
            end = i + 1
        for j in range(i + 1, end):
            if j in skip:
                break
            text = clean(lines[j]).strip()
            if not text:
                # A blank line ends the answer; text below it is the customer's own again.
                if parts:
                    break
                continue
            if parts and (ends_answer(text, sender) or looks_labelled(text)):
                # "Pour le reste c'est correct.", a greeting, their name, or "Something: …" (a
                # label we do not know): not part of this answer.
                break
            parts.append(text)
            used.add(j)
        value = "\n".join(parts).strip()
        if not parts:
            value = ""
        kind = {"except": "correction"}.get(source, source)
        answers.append(Answer(f, value, i, kind))
    _meant_again(lines, answers, used)
    listed = {(a.line, a.field.id) for a in answers}
    answers.extend(a for a in confirmations if (a.line, a.field.id) not in listed)
    return answers, used
