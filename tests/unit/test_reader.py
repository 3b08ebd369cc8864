"""handlers.reader.read_reply on hand-made replies: each reading path and its edge cases."""

from __future__ import annotations

import time

from handlers.reader.html import html_to_text
from handlers.reader.quotes import strip_quotes
from handlers.reader.reader import read_reply
from handlers.text.lang import detect_language
from handlers.text.validate import check_value, duration_ok, normalize_phone, validate_value
from templates import load_manifest, render_pdf

DEFAULTS = {f.id: f.default or "" for f in load_manifest("ibeauty").annex_fields}
INVITATION_NL = [
    "1. Onderwerp van de verwerking",
    "   Wat is het onderwerp van de verwerking?",
    f"   Voorstel: {DEFAULTS['subject']}",
    "",
    "2. Duur van de verwerking",
    "   Hoe lang duurt de verwerking?",
    f"   Voorstel: {DEFAULTS['duration']}",
    "",
    "3. Aard en doel van de verwerking",
    "   Wat zijn de aard en het doel van de verwerking?",
    f"   Voorstel: {DEFAULTS['nature_purpose']}",
    "",
    "Antwoord op deze e-mail en bevestig of verbeter elk antwoord met zijn nummer.",
    "",
    "Met vriendelijke groeten,",
    "iBeauty BVBA",
]


def mail(body: str, *, headers: str = "", subtype: str = "plain") -> bytes:
    head = (
        "From: Karolien <k@mooi.example>\r\nTo: dpa+tok@ibeauty.example\r\n"
        "Subject: Re: Verwerkersovereenkomst\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/{subtype}; charset=utf-8\r\n{headers}\r\n"
    )
    return head.encode() + body.replace("\n", "\r\n").encode()


def quoted(lines: list[str]) -> str:
    return "\n".join("> " + ln if ln else ">" for ln in lines)


# ------------------------------------------------------------------ answers


def test_inline_answers_under_quoted_questions_count_and_are_not_acceptance():
    q = INVITATION_NL
    body = (
        "Zie hieronder.\n\nOp ma 23 nov. 2026 om 10:12 schreef iBeauty <dpa@ibeauty.example>:\n"
        + quoted(q[:4])
        + "\nakkoord\n"
        + quoted(q[4:8])
        + "\nVijf jaar na het einde\nvan het contract.\n"
        + quoted(q[8:])
        + "\n"
    )
    r = read_reply(mail(body), "ibeauty")
    assert r.fields["subject"] == DEFAULTS["subject"]  # "akkoord" confirms the proposal
    assert r.fields["duration"] == "Vijf jaar na het einde\nvan het contract."
    assert "nature_purpose" not in r.fields
    assert not r.accept and r.language == "nl"
    assert r.missing == ["nature_purpose", "data_types", "data_subjects"]


def test_numbered_labelled_fuzzy_and_sentence_answers():
    body = (
        "Goedemiddag,\n\n"
        "1) Beheer van klantgegevens\n"
        "Aard en doel van de verwerkng: afspraken plannen\n"
        "Categorien van betrokkenen: klanten\n\n"
        "De duur is gelijk aan de looptijd van het contract.\n\n"
        "Met vriendelijke groet,\nKarolien\n"
    )
    r = read_reply(mail(body), "ibeauty")
    assert r.fields == {
        "subject": "Beheer van klantgegevens",
        "nature_purpose": "afspraken plannen",
        "data_subjects": "klanten",
        "duration": "gelijk aan de looptijd van het contract",
    }
    assert r.missing == ["data_types"]


def test_short_labels_are_not_guessed_long_ones_are():
    # Short labels ("duur") never match fuzzily; a long one with a typo does.
    r = read_reply(mail("Dour: vijf jaar\nCategorie: klanten\n\nOpmerking: geen\n"), "ibeauty")
    assert r.fields == {"data_subjects": "klanten"}


def test_answered_twice_takes_the_last_and_notes_it():
    r = read_reply(mail("2: 1 jaar\n\nSorry, het moet zijn:\n\n2: 3 jaar\n"), "ibeauty")
    assert r.fields["duration"] == "3 jaar"
    assert any("twice" in n for n in r.notes)


def test_french_and_english_replies():
    fr = read_reply(mail("Bonjour,\n\n2: La durée est de 5 ans\n\nCordialement"), "ibeauty")
    assert fr.language == "fr" and fr.fields["duration"] == "La durée est de 5 ans"
    en = read_reply(mail("Hello,\n\nThe duration is 2 years.\n\nKind regards,\nJo"), "ibeauty")
    assert en.language == "en" and en.fields["duration"] == "2 years"


def test_invalid_values_get_a_reason_in_the_customers_language():
    r = read_reply(mail("Bonjour,\n\n2: bientôt\n\nMerci"), "ibeauty")
    assert "durée" in r.invalid["duration"] and "duration" not in r.fields
    it4 = read_reply(
        mail("Hello,\n\n4: 12\n5: dpo@mooi\n\nThanks"), "it4professionals", lang_hint="en"
    )
    assert it4.invalid == {
        "dpo_phone": "this is not a valid phone number",
        "dpo_email": "this is not a valid email address",
    }


def test_phone_is_stored_in_international_format():
    r = read_reply(mail("4: 0476 12 34 56\n5: dpo@mooi.be\n"), "it4professionals")
    assert r.fields == {"dpo_phone": "+32 476 12 34 56", "dpo_email": "dpo@mooi.be"}


def test_filled_pdf_form_attachment():
    values = {**DEFAULTS, "data_subjects": "Enkel klanten"}
    pdf = render_pdf(
        "ibeauty",
        {"processor": {"name": "iBeauty"}, "fields": values},
        draft=True,
    )
    import base64

    boundary = "b1"
    raw = (
        "From: k@mooi.example\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIn bijlage.\r\n"
        f"--{boundary}\r\nContent-Type: application/pdf\r\n"
        'Content-Disposition: attachment; filename="dpa.pdf"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(pdf).decode()
        + f"\r\n--{boundary}--\r\n"
    ).encode()
    r = read_reply(raw, "ibeauty")
    assert r.fields["data_subjects"] == "Enkel klanten"
    assert r.fields["subject"] == DEFAULTS["subject"]  # the prefilled proposal, confirmed
    assert r.missing == []


# ------------------------------------------------------------------ intent


def test_acceptance_in_three_languages_with_curly_apostrophes():
    for text, lang in (("AKKOORD", "nl"), ("D’ACCORD", "fr"), ("I AGREE", "en")):
        r = read_reply(mail(text + "\n\nSent from my iPhone"), "ibeauty")
        assert r.accept and not r.decline and r.language == lang, text


def test_decline_and_change_request_are_never_acceptance():
    assert read_reply(mail("Wij gaan niet akkoord."), "ibeauty").decline
    assert not read_reply(mail("Pas d'accord."), "ibeauty").accept
    r = read_reply(
        mail('Akkoord, maar in artikel 12 graag "30 dagen" in plaats van "14 dagen".'), "ibeauty"
    )
    assert not r.accept and r.change_requests == [{"article": "12", "text": "30 dagen"}]
    law = read_reply(mail("Akkoord, conform art. 28 AVG."), "ibeauty")
    assert law.accept and law.change_requests == []


def test_questions_are_sentences_ending_with_a_question_mark():
    r = read_reply(mail("Bedankt. Kan ik later nog wijzigen?\n3: Wat bedoelt u?"), "ibeauty")
    assert r.questions == ["Wat bedoelt u?", "Kan ik later nog wijzigen?"]
    assert "nature_purpose" not in r.fields


def test_auto_replies_and_bounces():
    ooo = read_reply(mail("Ik ben afwezig.", headers="Auto-Submitted: auto-replied\r\n"), "ibeauty")
    assert ooo.auto_reply and not ooo.bounce and ooo.fields == {}
    subj = mail("1: ok").replace(b"Re: Verwerkersovereenkomst", b"Automatisch antwoord: x")
    assert read_reply(subj, "ibeauty").auto_reply
    dsn = (
        b"From: MAILER-DAEMON@mx.example\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="x"\r\n\r\n'
        b"--x\r\nContent-Type: text/plain\r\n\r\nUndeliverable\r\n--x--\r\n"
    )
    bounce = read_reply(dsn, "ibeauty")
    assert bounce.bounce and not bounce.auto_reply and not bounce.accept
    assert "bounce" in bounce.as_json()


# ------------------------------------------------------------------ quotes and HTML


def test_html_quotes_are_removed_at_the_html_level():
    outlook = (
        "<p class=MsoNormal>AKKOORD</p><div id=divRplyFwdMsg><b>From:</b> x</div>"
        "<p>I do not agree</p>"
    )
    assert html_to_text(outlook) == "AKKOORD"
    gmail = (
        '<div dir="ltr">1: ok</div><div class="gmail_quote"><div class="gmail_attr">On Mon'
        ' wrote:</div><blockquote class="gmail_quote">2: no</blockquote></div>'
    )
    assert html_to_text(gmail) == "1: ok"
    assert html_to_text('<div>3: x</div><blockquote type="cite">4: y</blockquote>') == "3: x"
    assert html_to_text("<ol><li>a</li><li>b</li></ol>") == "1. a\n2. b"


def test_signatures_sent_from_and_disclaimers_are_cut():
    for tail in (
        "Verzonden vanaf mijn iPhone",
        "Envoyé de mon iPhone",
        "Get Outlook for iOS",
        "Met vriendelijke groeten,\nKarolien",
        "Disclaimer: dit bericht is vertrouwelijk.",
        "-- \nKarolien",
    ):
        assert strip_quotes("AKKOORD\n\n" + tail + "\nniet akkoord") == "AKKOORD", tail
    # A greeting above the answers does not end the text.
    assert strip_quotes("Bedankt!\n1. x") == "Bedankt!\n1. x"


def test_bottom_posted_answers_below_a_quote_are_kept():
    text = "Op ma 23 nov 2026 om 10:12 schreef X <x@y>:\n> 1. vraag\n\n1. antwoord\n"
    assert strip_quotes(text) == "1. antwoord"


def test_crafted_input_does_not_hang():
    started = time.monotonic()
    for body in ("On " + "a " * 40000, "From:" + " " * 80000 + "x", "> " * 50000):
        read_reply(mail(body), "ibeauty")
    assert time.monotonic() - started < 10


# ------------------------------------------------------------------ validation and language


def test_validation_helpers():
    assert validate_value("text", "  ") == "het antwoord is leeg"
    assert validate_value("text", "  ", "en") == "the answer is empty"
    assert validate_value("enterprise_number", "BE0840.465.705") is None
    assert validate_value("enterprise_number", "0840.465.706", "fr") is not None
    assert check_value("email", "a@b.be<mailto:a@b.be>") == ("a@b.be", None)
    assert normalize_phone("+31(0)683237910") == "+31 6 83237910"
    for ok in ("5 jaar", "24 mois", "2 years", "looptijd van de overeenkomst", "onbepaalde duur"):
        assert duration_ok(ok), ok
    assert not duration_ok("binnenkort")


def test_language_detection():
    assert detect_language("Bonjour, voici nos réponses pour la convention.")[0] == "fr"
    assert detect_language("Hello, please find our answers below.")[0] == "en"
    assert detect_language("Hallo, hierbij onze antwoorden voor de overeenkomst.")[0] == "nl"
    assert detect_language("1: ok", fallback="fr") == ("fr", False)
