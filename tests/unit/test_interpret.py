"""Reading customers' replies: numbered and labelled answers, acceptance, decline, quotes."""

from __future__ import annotations

from bot.domain.data import annex_fields
from handlers.reader.interpret import interpret
from handlers.reader.mime import parse_mail
from handlers.reader.pipeline import authenticate, own_words, reply_token, screen
from handlers.reader.quotes import strip_quotes

FIELDS = annex_fields("ibeauty")


def test_numbered_answers_in_three_styles_and_multiline_values():
    text = (
        "1. Klantenbeheer voor de salon\nen de afspraken\n"
        "2: Zolang het contract loopt\n"
        "3) Registratie van afspraken\n"
        "4 - Naam en telefoonnummer\n"
        "5. Klanten\n"
    )
    r = interpret(text, FIELDS)
    assert r.fields["subject"] == "Klantenbeheer voor de salon\nen de afspraken"
    assert r.fields["duration"] == "Zolang het contract loopt"
    assert r.fields["nature_purpose"] == "Registratie van afspraken"
    assert r.fields["data_types"] == "Naam en telefoonnummer"
    assert r.fields["data_subjects"] == "Klanten"
    assert r.missing == [] and not r.accept


def test_labelled_answers_and_number_with_label():
    text = (
        "Onderwerp van de verwerking: Beheer van klantgegevens\n"
        "2. Duur van de verwerking: vijf jaar\n"
        "Categorieën van betrokkenen bij de verwerker: klanten en prospecten\n"
    )
    r = interpret(text, FIELDS)
    assert r.fields == {
        "subject": "Beheer van klantgegevens",
        "duration": "vijf jaar",
        "data_subjects": "klanten en prospecten",
    }
    assert r.missing == ["nature_purpose", "data_types"]


def test_confirming_a_proposal_takes_the_default():
    r = interpret("3: klopt", FIELDS)
    default = next(f.default for f in FIELDS if f.id == "nature_purpose")
    assert default and r.fields["nature_purpose"] == default


def test_acceptance_and_decline():
    assert interpret("AKKOORD\n\nKarolien", FIELDS).accept
    assert interpret("Ik ga akkoord met de overeenkomst.", FIELDS).accept
    declined = interpret("Wij gaan niet akkoord met de overeenkomst.", FIELDS)
    assert declined.decline and not declined.accept
    # Objecting to one article is a change request (negotiation), not a decline of the contract.
    objection = interpret("Wij gaan niet akkoord met artikel 12.", FIELDS)
    assert not objection.decline and not objection.accept
    assert objection.change_requests == [
        {"article": "12", "text": "Wij gaan niet akkoord met artikel 12."}
    ]
    # "1: akkoord" confirms a value; it does not accept the contract.
    assert not interpret("1: akkoord", FIELDS).accept


def test_known_values_are_not_missing():
    r = interpret(
        "5. Klanten",
        FIELDS,
        known={"subject": "a", "duration": "b", "nature_purpose": "c", "data_types": "d"},
    )
    assert r.missing == []


def test_answered_twice_takes_the_last_and_says_so():
    r = interpret("1. eerste\n\n1. tweede\n", FIELDS)
    assert r.fields["subject"] == "tweede"
    assert any("twice" in n for n in r.notes)


def test_quote_stripping_dutch_french_english_outlook():
    assert strip_quotes("1. x\n\nOp 23 nov. 2026 om 10:00 schreef iBeauty <a@b>:\n> 1. y") == "1. x"
    assert strip_quotes("1. x\nLe lun. 23 nov. 2026, X <a@b> a écrit :\n> 2. y") == "1. x"
    assert strip_quotes("AKKOORD\n-----Original Message-----\nFrom: a\n1. y") == "AKKOORD"
    assert strip_quotes("2: z\n\nVan: iBeauty\nVerzonden: maandag\n1. y") == "2: z"
    assert strip_quotes("3) w\n-- \nKarolien\n1. y") == "3) w"
    assert strip_quotes("Op ma 23 nov 2026 om 10:00\nschreef X <x@y>:\n> q") == ""


def _raw(headers: str, body: str = "1. x") -> bytes:
    return (headers + "\r\n\r\n" + body).encode()


def test_reply_token_from_delivered_to_then_to():
    token = "abcdefghijklmnopqrstuvwxyz"
    mail = parse_mail(_raw(f"From: k@c.example\r\nDelivered-To: dpa+{token}@t.example\r\nTo: x@y"))
    assert reply_token(mail, "dpa@t.example") == token
    mail = parse_mail(_raw(f"From: k@c.example\r\nTo: Dpa <dpa+{token}@t.example>"))
    assert reply_token(mail, "dpa@t.example") == token
    # Another tenant's address with a token is not ours.
    mail = parse_mail(_raw(f"From: k@c.example\r\nTo: dpa+{token}@other.example"))
    assert reply_token(mail, "dpa@t.example") is None


def test_screen_auto_replies_bounces_and_our_own_mail():
    ours = "dpa@t.example"
    assert not screen(parse_mail(_raw("From: k@c\r\nAuto-Submitted: auto-replied")), ours).ok
    assert not screen(parse_mail(_raw("From: MAILER-DAEMON@c.example")), ours).ok
    assert not screen(parse_mail(_raw("From: dpa@t.example")), ours).ok
    assert screen(parse_mail(_raw("From: k@c.example\r\nAuto-Submitted: no")), ours).ok


def test_authenticate_only_the_invited_address():
    mail = parse_mail(_raw("From: Karolien <Karolien@Mooi.example>"))
    assert authenticate(mail, "karolien@mooi.example").ok
    assert authenticate(mail, "other@mooi.example").outcome == "rejected_sender"


def test_html_only_mail_is_read():
    raw = (
        b"From: k@c.example\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><body><p>1. Klantenbeheer</p><div>2: &eacute;&eacute;n jaar</div>"
        b"<blockquote>5. oud</blockquote></body></html>"
    )
    r = interpret(own_words(parse_mail(raw)), FIELDS)
    assert r.fields["subject"] == "Klantenbeheer"
    assert r.fields["duration"] == "één jaar"
    assert "data_subjects" not in r.fields
