"""Read a customer's chat message with the email reader's own steps (pure).

A chat answer to one question goes through the same check as a numbered answer in a mail
(``apply_answers``: "klopt" confirms the proposal, the same validation, the same reasons); any
other message is read like the customer's own words in a reply (``interpret``: numbered or
labelled answers, change requests, questions, acceptance, decline).
"""

from __future__ import annotations

from handlers.reader.answers import Answer
from handlers.reader.interpret import apply_answers, interpret, missing_fields
from handlers.reader.model import Interpretation, template_fields

__all__ = ["read_chat", "said_anything"]


def read_chat(
    text: str,
    template_id: str,
    known: dict[str, str],
    *,
    lang: str,
    field_id: str | None = None,
) -> Interpretation:
    """What one chat message says: an answer to ``field_id`` when given, else free text."""
    fields = template_fields(template_id)
    if field_id is None:
        return interpret(text, fields, known, language=lang)
    field = next(f for f in fields if f.id == field_id)
    result = Interpretation(language=lang)
    apply_answers(result, [Answer(field, text, 0, "chat")], known)
    result.missing = missing_fields(fields, result, known)
    return result


def said_anything(reading: Interpretation) -> bool:
    """Whether the reading found an answer, a request, a question, an acceptance or a no."""
    return bool(
        reading.fields
        or reading.invalid
        or reading.change_requests
        or reading.questions
        or reading.accept
        or reading.decline
    )
