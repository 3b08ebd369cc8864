"""Read one customer reply: MIME, inline answers, quotes, answers, form, intent (pure)."""

from __future__ import annotations

from bot.errors import DpabotError
from handlers.reader.answers import Answer, read_marked
from handlers.reader.endorsed import (
    endorses,
    forwarded_words,
    is_invitation,
    without_endorsement,
)
from handlers.reader.errors import ReaderError
from handlers.reader.forms import form_answers
from handlers.reader.html import html_to_text
from handlers.reader.inline import read_inline
from handlers.reader.intent import is_auto_reply, is_bounce, read_intent
from handlers.reader.interpret import apply_answers, apply_intent, missing_fields, sentence_answers
from handlers.reader.mime import ParsedMail, parse_mail
from handlers.reader.model import AnnexField, Interpretation, template_fields
from handlers.reader.quotes import split_reply, strip_quotes
from handlers.text.lang import clean, detect_language

__all__ = ["read_reply"]

# Longer bodies are cut: nobody answers six questions in more than this, and every step after
# this one then has a bounded amount of text to look at.
MAX_TEXT = 200_000


def _bodies(mail: ParsedMail) -> list[str]:
    """Candidate texts with the original still in, quoted lines marked '>': HTML first.

    HTML shows where the original starts (blockquote, gmail_quote, divRplyFwdMsg) better than
    any text heuristic; the text/plain part is the fallback when the HTML says nothing.
    """
    out = []
    if mail.html.strip():
        out.append(html_to_text(mail.html[: MAX_TEXT * 5], mark_quotes=True))
    if mail.plain.strip():
        out.append(mail.plain)
    return [clean(t[:MAX_TEXT]) for t in out] or [""]


def _read_body(
    body: str, fields: list[AnnexField], sender: str = ""
) -> tuple[list[Answer], str, str, list[int]]:
    """(answers in reading order, free text, quoted original, inline answer lines) of a body."""
    lines = body.split("\n")
    inline, inline_used = read_inline(lines, fields, sender=sender)
    # Inline answers are gone before the quote is cut; the rest are the customer's own words.
    rest = "\n".join("" if i in inline_used else ln for i, ln in enumerate(lines))
    own, quoted = split_reply(rest)
    own = strip_quotes(own)
    own_lines = own.split("\n")
    marked, used = read_marked(own_lines, fields, sender=sender)
    sentence = sentence_answers(own_lines, fields, used)
    ordered = sorted(marked + sentence, key=lambda a: a.line)
    free = "\n".join(ln for i, ln in enumerate(own_lines) if i not in used)
    # Answers above the quote come first in the mail; inline ones below them count last.
    return [*ordered, *inline], free, quoted, sorted(inline_used)


def _language(own: str, quoted: str, hint: str | None) -> str:
    lang, sure = detect_language(own, fallback=hint or "")
    if sure or (lang and not hint):
        return lang
    if hint:
        return hint
    # No words of their own (a form, "1: ok"): the invitation went out in their language.
    return detect_language(quoted, fallback="nl")[0] or "nl"


def read_reply(
    raw: bytes,
    template_id: str,
    known: dict[str, str] | None = None,
    *,
    lang_hint: str | None = None,
) -> Interpretation:
    """Everything dpabot reads in one reply to a contract of template_id.

    known: the values agreed so far (they are not missing, and "ok" confirms them).
    lang_hint: the customer's language as far as we know it, used when their words are too few.
    Raises only ReaderError (or TemplateError for an unknown template), whatever the bytes.
    """
    try:
        return _read(raw, template_id, known, lang_hint)
    except DpabotError:
        raise
    except (Exception, RecursionError) as exc:  # the reader's wall: one error type leaves it
        raise ReaderError(
            f"The reply could not be read ({type(exc).__name__}: {str(exc)[:200]})."
        ) from exc


def _read(
    raw: bytes, template_id: str, known: dict[str, str] | None, lang_hint: str | None
) -> Interpretation:
    fields = template_fields(template_id)
    mail = parse_mail(raw)
    result = Interpretation()
    result.bounce = is_bounce(mail)

    best: tuple[list[Answer], str, str, list[int]] | None = None
    for body in _bodies(mail):
        reading = _read_body(body, fields, mail.from_addr)
        if best is None or (not best[0] and not best[1].strip() and (reading[0] or reading[1])):
            best = reading
    assert best is not None
    answers, free, quoted, _ = best
    endorsed = False
    forwarded = forwarded_words(quoted).split("\n") if endorses(free) and not answers else []
    if forwarded and not is_invitation(forwarded):
        # The answers are a colleague's, forwarded below and endorsed: read them there.
        marked, used = read_marked(forwarded, fields, sender=mail.from_addr)
        answers = sorted(marked + sentence_answers(forwarded, fields, used), key=lambda a: a.line)
        free = without_endorsement(free)
        endorsed = True
    own_words = "\n".join([free, *(a.value for a in answers if a.source != "form")])
    result.language = _language(own_words, quoted, lang_hint)
    result.auto_reply = not result.bounce and is_auto_reply(mail, free)
    if result.bounce or result.auto_reply:
        # An out-of-office or a bounce answers nothing, whatever it quotes.
        result.missing = missing_fields(fields, result, known)
        return result

    forms, notes = form_answers(mail.attachments, fields)
    result.notes.extend(notes)
    # An answer under a label that only looks like one is asked back, not filled in.
    sure = [a for a in answers if a.source != "uncertain"]
    result.uncertain = {
        a.field.id: a.value
        for a in answers
        if a.source == "uncertain" and a.value and a.field.id not in {b.field.id for b in sure}
    }
    answers = sure
    # Typed answers win over the form: the mail is what the customer wrote last.
    typed = {a.field.id for a in answers}
    apply_answers(result, [*(a for a in forms if a.field.id not in typed), *answers], known)
    apply_intent(result, read_intent(free), fields, known)
    if endorsed:
        result.accept = False  # "akkoord" there approved a colleague's answers, not the contract
    result.missing = missing_fields(fields, result, known)
    return result


def own_text(raw: bytes) -> str:
    """The customer's own words of a raw reply, as read_reply sees them (for display)."""
    mail = parse_mail(raw)
    return "\n\n".join(strip_quotes(split_reply(b)[0]) for b in _bodies(mail)[:1])
