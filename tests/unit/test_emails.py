"""Unit tests of the customer mails: every kind in nl, fr and en, numbering, escaping, errors."""

from __future__ import annotations

import re
from typing import Any

import pytest
from markupsafe import escape

from templates import EMAIL_KINDS, TemplateError, annex_questions, load_manifest, render_email
from templates.emails import ACCEPTANCE_WORDS, EMAILS_DIR, SUPPORTED_LANGUAGES, email_languages

LANGS = ("nl", "fr", "en")
SHA = "0123456789abcdef" * 4
COMMON = {
    "tenant_name": "iBeauty BVBA",
    "customer_name": "MOOI Schoonheidsverzorging",
    "representative": "Karolien Piskor",
    "contract_ref": "DPA-42",
}
# What each language calls the agreement (subject and body of every kind).
AGREEMENT = {
    "nl": "verwerkersovereenkomst",
    "fr": "convention de sous-traitance",
    "en": "data processing agreement",
}
# Kind-specific contexts; reminder is rendered both before and while awaiting the signature.
CASES = [
    (kind, lang, awaiting)
    for kind in EMAIL_KINDS
    for lang in LANGS
    for awaiting in ((False, True) if kind == "reminder" else (False,))
]


def _questions(lang: str, **override: str) -> list[dict[str, Any]]:
    values = {**load_manifest("ibeauty").defaults(), **override}
    return annex_questions("ibeauty", values, lang)


def _context(kind: str, lang: str, *, awaiting: bool = False, **extra: Any) -> dict[str, Any]:
    """The context the bot passes (bot.outbox.mail_context): every key, plus the kind's own."""
    ctx: dict[str, Any] = {
        **COMMON,
        "questions": _questions(lang),
        "missing": [],
        "invalid": [],
        "sha256": SHA,
        "version": 2,
        "fingerprint": SHA[:4].upper() + "-" + SHA[4:8].upper() + "-" + SHA[8:12].upper(),
        "awaiting_signature": awaiting,
    }
    if kind == "followup":
        ctx["missing"] = [{"number": 2, "label": "Duur"}, "Ondernemingsnummer"]
        ctx["invalid"] = [{"number": 4, "label": "Soort", "reason": "leeg", "value": "?"}]
    if kind == "change_decision":
        ctx.update(DECISIONS)
    if kind == "chat_code":
        ctx.update(code="042917", minutes=10)
    return {**ctx, **extra}


DECISIONS: dict[str, Any] = {
    "decisions": [
        {
            "article": "5",
            "title": "Gebruik sub-verwerkers",
            "status": "countered",
            "request": "Enkel met <b>specifieke</b> toestemming",
            "text": "Specifieke schriftelijke toestemming vooraf",
        },
        {"article": "12", "title": "", "status": "rejected", "request": "Geen", "text": "Wet"},
    ],
    "finalizing": False,
    "changed": True,
    "pending": True,
    "missing": [{"number": 2, "label": "Duur"}],
}


@pytest.mark.parametrize("lang", LANGS)
def test_change_decision_names_each_article_request_and_outcome(lang: str) -> None:
    mail = render_email("change_decision", lang, _context("change_decision", lang))
    article = {"nl": "Artikel", "fr": "Article", "en": "Article"}[lang]
    for body in (mail.text, _text_of(mail.html)):
        assert f"{article} 5 – Gebruik sub-verwerkers" in body and f"{article} 12" in body
        assert "Specifieke schriftelijke toestemming vooraf" in body
        assert body.index("Specifieke schriftelijke") < body.index(f"{article} 12")
        assert "Wet" in body and "Duur" in body
    assert "&lt;b&gt;specifieke&lt;/b&gt;" in mail.html  # the customer's words, escaped


def _text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


# ------------------------------------------------------------------ every kind, every language


def test_every_supported_language_has_every_kind() -> None:
    assert email_languages() == sorted(SUPPORTED_LANGUAGES) == sorted(LANGS)
    assert set(ACCEPTANCE_WORDS) == set(SUPPORTED_LANGUAGES)
    for lang in SUPPORTED_LANGUAGES:
        for kind in EMAIL_KINDS:
            for part in ("subject", "txt", "html"):
                assert (EMAILS_DIR / lang / f"{kind}.{part}.j2").is_file(), (lang, kind, part)


def test_email_kinds_and_their_keys() -> None:
    assert EMAIL_KINDS == {
        "invitation": ("questions",),
        "followup": ("missing", "invalid"),
        "reminder": ("questions", "awaiting_signature"),
        "confirmation": ("questions",),
        "final": ("sha256", "version", "fingerprint"),
        "completed": ("sha256",),
        "change_decision": ("decisions", "finalizing", "changed", "pending", "missing"),
        "chat_code": ("code", "minutes"),
    }


@pytest.mark.parametrize(("kind", "lang", "awaiting"), CASES)
def test_every_kind_renders_in_every_language(kind: str, lang: str, awaiting: bool) -> None:
    mail = render_email(kind, lang, _context(kind, lang, awaiting=awaiting))
    assert mail.subject and mail.text.strip() and mail.html.strip()
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert "iBeauty BVBA" in mail.subject and "[DPA-42]" in mail.subject
    assert AGREEMENT[lang] in mail.subject.lower()
    assert AGREEMENT[lang] in mail.text.lower() and AGREEMENT[lang] in mail.html.lower()
    assert f'<html lang="{lang}">' in mail.html and "</html>" in mail.html
    for body in (mail.text, mail.html):
        assert "Karolien Piskor" in body  # greeted by name
        assert body.rstrip().endswith(("iBeauty BVBA", "</html>"))
        assert "{{" not in body and "{%" not in body
    assert mail.text.rstrip().endswith("iBeauty BVBA")  # signed by the processor
    assert "<p>" not in mail.text and "<br>" not in mail.text


@pytest.mark.parametrize("lang", LANGS)
def test_subject_stays_one_line_in_every_language(lang: str) -> None:
    for kind, _, awaiting in (c for c in CASES if c[1] == lang):
        ctx = _context(kind, lang, awaiting=awaiting, customer_name="Evil\r\nBcc: x@y")
        subject = render_email(kind, lang, ctx).subject
        assert "\n" not in subject and "\r" not in subject, kind


# ------------------------------------------------------------------ numbered questions


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("kind", "awaiting"), [("invitation", False), ("reminder", False)])
def test_questions_are_numbered_in_text_and_html(kind: str, awaiting: bool, lang: str) -> None:
    qs = _questions(lang)
    assert [q["number"] for q in qs] == [1, 2, 3, 4, 5]
    mail = render_email(kind, lang, _context(kind, lang, awaiting=awaiting))
    text_positions, html_positions = [], []
    for q in qs:
        line = f"{q['number']}. {q['label']}"
        assert re.search(rf"^{re.escape(line)}", mail.text, re.M), line
        assert q["value"] in mail.text and escape(q["value"]) in mail.html
        assert q["question"] in mail.text and escape(q["question"]) in mail.html
        text_positions.append(mail.text.index(line))
        cell = f">{q['number']}.</td>"
        assert cell in mail.html, cell
        html_positions.append(mail.html.index(cell))
        assert mail.html.index(f"<strong>{escape(q['label'])}</strong>") > html_positions[-1]
    assert text_positions == sorted(text_positions)
    assert html_positions == sorted(html_positions)
    for body in (mail.text, mail.html):  # shows how to answer by number
        assert re.search(r"[\n>]1: ok\n3: ", body)


@pytest.mark.parametrize("lang", LANGS)
def test_reminder_awaiting_signature_asks_for_the_acceptance_word(lang: str) -> None:
    word = ACCEPTANCE_WORDS[lang]
    waiting = render_email("reminder", lang, _context("reminder", lang, awaiting=True))
    asking = render_email("reminder", lang, _context("reminder", lang, awaiting=False))
    for body in (waiting.text, waiting.html):
        assert word in body
        assert "1: ok" not in body  # no answers asked for any more
    for q in _questions(lang):  # the agreed Bijlage 1, still numbered
        assert f"{q['number']}. {q['label']}" in waiting.text
        assert f">{q['number']}.</td>" in waiting.html and escape(q["value"]) in waiting.html
    for body in (asking.text, asking.html):
        assert word not in body
    assert waiting.subject != asking.subject


@pytest.mark.parametrize("lang", LANGS)
def test_reminder_marks_questions_still_open(lang: str) -> None:
    qs = _questions(lang, duration="")
    ctx = _context("reminder", lang, questions=qs, missing=[{"number": 2, "label": "x"}])
    plain = render_email("reminder", lang, _context("reminder", lang, questions=qs))
    marked = render_email("reminder", lang, ctx)
    by_label = render_email("reminder", lang, {**ctx, "missing": [qs[1]["label"]]})
    line = f"2. {qs[1]['label']}"
    plain_line = next(ln for ln in plain.text.splitlines() if ln.startswith(line))
    marked_line = next(ln for ln in marked.text.splitlines() if ln.startswith(line))
    assert plain_line == line and marked_line != line
    assert marked_line in by_label.text.splitlines()
    other = next(ln for ln in marked.text.splitlines() if ln.startswith("1. "))
    assert other == f"1. {qs[0]['label']}"


@pytest.mark.parametrize("lang", LANGS)
def test_confirmation_lists_answers_as_recorded_and_what_comes_next(lang: str) -> None:
    qs = _questions(lang, nature_purpose="Afspraken plannen")
    mail = render_email("confirmation", lang, _context("confirmation", lang, questions=qs))
    for q in qs:
        assert f"{q['number']}. {q['label']}\n   {q['value']}\n" in mail.text
        assert escape(q["value"]) in mail.html
    assert "Afspraken plannen" in mail.text
    for body in (mail.text, mail.html):  # next: the final version, signed with the word
        assert ACCEPTANCE_WORDS[lang] in body
        assert "3: …" in body


# ------------------------------------------------------------------ acceptance words


@pytest.mark.parametrize("lang", LANGS)
def test_final_asks_for_the_acceptance_word_of_the_language(lang: str) -> None:
    mail = render_email("final", lang, _context("final", lang))
    word = ACCEPTANCE_WORDS[lang]
    assert word in mail.text and word in mail.html
    assert SHA in mail.text and SHA in mail.html
    for other, w in ACCEPTANCE_WORDS.items():
        if other != lang:
            assert w not in mail.text, (lang, w)
    if lang == "fr":
        assert "J'ACCEPTE" in mail.text and "J'ACCEPTE" in mail.html
    # The version and its fingerprint, in the subject (kept in a reply's "Re:") and the body.
    fp = _context("final", lang)["fingerprint"]
    for part in (mail.subject, mail.text, mail.html):
        assert fp in part and "2" in part


def test_acceptance_words() -> None:
    assert ACCEPTANCE_WORDS == {"nl": "AKKOORD", "fr": "D'ACCORD", "en": "I AGREE"}


@pytest.mark.parametrize("lang", LANGS)
def test_completed_shows_hash(lang: str) -> None:
    mail = render_email("completed", lang, _context("completed", lang))
    assert SHA in mail.text and SHA in mail.html


# ------------------------------------------------------------------ escaping


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("kind", "awaiting"),
    [("invitation", False), ("reminder", False), ("reminder", True), ("confirmation", False)],
)
def test_html_is_escaped_text_is_literal(kind: str, awaiting: bool, lang: str) -> None:
    evil = "<script>alert('x')</script> & co"
    qs = _questions(lang, nature_purpose=evil)
    ctx = _context(kind, lang, awaiting=awaiting, questions=qs, customer_name="A&B <b>")
    mail = render_email(kind, lang, ctx)
    assert evil in mail.text and "A&B <b>" in mail.text
    assert "<script>" not in mail.html and "<b>" not in mail.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in mail.html
    assert "A&amp;B &lt;b&gt;" in mail.html


@pytest.mark.parametrize("lang", LANGS)
def test_followup_escapes_reasons_and_values(lang: str) -> None:
    ctx = _context(
        "followup",
        lang,
        missing=["<i>Ondernemingsnummer</i>"],
        invalid=[{"number": 4, "label": "Soort", "reason": "<u>leeg</u>", "value": "<x>"}],
    )
    mail = render_email("followup", lang, ctx)
    assert "- <i>Ondernemingsnummer</i>" in mail.text and "<x>" in mail.text
    assert "<u>" not in mail.html and "<x>" not in mail.html
    assert "&lt;x&gt;" in mail.html and "&lt;u&gt;leeg&lt;/u&gt;" in mail.html
    assert re.search(r"^4\. Soort\s?: <u>leeg</u>", mail.text, re.M)
    assert "\n- <i>Ondernemingsnummer</i>\n" in mail.text
    assert "\n4: …\n" in mail.text


@pytest.mark.parametrize("lang", LANGS)
def test_followup_as_the_bot_sends_it(lang: str) -> None:
    """bot.service passes missing as bare labels and invalid without numbers."""
    ctx = _context(
        "followup",
        lang,
        missing=["Duur van de verwerking"],
        invalid=[{"label": "Ondernemingsnummer", "reason": "ongeldig"}],
    )
    mail = render_email("followup", lang, ctx)
    assert "- Duur van de verwerking\n" in mail.text
    assert re.search(r"^- Ondernemingsnummer\s?: ongeldig$", mail.text, re.M)
    assert "\nDuur van de verwerking: …\n" in mail.text  # no number: answer by label


# ------------------------------------------------------------------ labels in the customer's words


def test_labels_follow_the_customer_language() -> None:
    spec = load_manifest("ibeauty").fields["subject"]
    assert spec.labels["fr"] == "Objet du traitement"
    assert spec.labels["en"] == "Subject matter of the processing"
    for lang in LANGS:
        qs = _questions(lang)
        assert qs[0]["label"] == spec.labels[lang]
        assert qs[0]["question"] == spec.question[lang]
    fr = render_email("invitation", "fr", _context("invitation", "fr"))
    assert "1. Objet du traitement" in fr.text and "Objet du traitement" in fr.html
    assert spec.question["fr"] in fr.text
    assert spec.labels["nl"] not in fr.text and spec.labels["en"] not in fr.text
    en = render_email("reminder", "en", _context("reminder", "en"))
    assert "1. Subject matter of the processing" in en.text
    assert spec.labels["nl"] not in en.text


def test_contract_language_note_only_when_it_differs() -> None:
    for lang in LANGS:
        for kind in ("invitation", "final"):
            plain = render_email(kind, lang, _context(kind, lang))
            same = render_email(kind, lang, _context(kind, lang, contract_language=lang))
            other = "fr" if lang == "nl" else "nl"
            noted = render_email(kind, lang, _context(kind, lang, contract_language=other))
            assert plain.text == same.text and plain.html == same.html
            assert len(noted.text) > len(plain.text) and len(noted.html) > len(plain.html)
    fr = render_email("final", "fr", _context("final", "fr", contract_language="nl"))
    assert "rédigée en néerlandais" in fr.text and "rédigée en néerlandais" in fr.html
    en = render_email("invitation", "en", _context("invitation", "en", contract_language="nl"))
    assert "drawn up in Dutch" in en.text


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("kind", "key"),
    [(kind, key) for kind, keys in EMAIL_KINDS.items() for key in keys]
    + [("invitation", key) for key in COMMON],
)
def test_missing_context_key_is_named(kind: str, key: str) -> None:
    ctx = _context(kind, "fr", awaiting=False)
    del ctx[key]
    with pytest.raises(TemplateError, match=f"'{kind}'.*'{key}'"):
        render_email(kind, "fr", ctx)


@pytest.mark.parametrize("lang", ["de", "xx", "", "nl/../fr", "../nl"])
def test_unknown_language_is_an_error(lang: str) -> None:
    with pytest.raises(TemplateError, match=f"'{re.escape(lang)}'.*nl, fr, en"):
        render_email("final", lang, _context("final", "nl"))


@pytest.mark.parametrize(("given", "lang"), [("FR", "fr"), ("fr-BE", "fr"), ("en_GB", "en")])
def test_language_tags_are_reduced_to_the_language(given: str, lang: str) -> None:
    mail = render_email("final", given, _context("final", lang))
    assert mail == render_email("final", lang, _context("final", lang))


def test_unknown_kind_and_broken_question_are_errors() -> None:
    with pytest.raises(TemplateError, match="'nope'"):
        render_email("nope", "en", _context("final", "en"))
    broken = [{"label": "x", "value": "y"}]  # no number
    with pytest.raises(TemplateError, match="invitation"):
        render_email("invitation", "en", _context("invitation", "en", questions=broken))


@pytest.mark.parametrize("lang", LANGS)
def test_chat_code_mail_shows_the_code_and_its_validity(lang: str) -> None:
    mail = render_email("chat_code", lang, _context("chat_code", lang))
    for body in (mail.text, mail.html):
        assert "042917" in body and "10" in body
    assert "042917" not in mail.subject  # the subject shows in previews and lock screens


@pytest.mark.parametrize("lang", LANGS)
def test_invitation_shows_the_chat_link_only_when_there_is_one(lang: str) -> None:
    link = "https://t.me/dpabot_test_bot?start=abc_DEF-123"
    with_link = render_email("invitation", lang, _context("invitation", lang, chat_link=link))
    without = render_email("invitation", lang, _context("invitation", lang))
    assert link in with_link.text and link in with_link.html
    assert "t.me" not in without.text and "t.me" not in without.html
