"""Replies written apart from the corpus the reader was tuned on (a small held-out check)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from handlers.reader.reader import read_reply


def mail(body: str, html: str | None = None) -> bytes:
    m = EmailMessage()
    m["From"] = "Jan <jan@klant.example>"
    m["To"] = "dpa+abcdefghijklmnopqrstuvwxyz@ibeauty.example"
    m["Subject"] = "Re: Verwerkersovereenkomst iBeauty"
    m["Message-ID"] = "<x@klant.example>"
    m.set_content(body)
    if html:
        m.add_alternative(html, subtype="html")
    return bytes(m)


CASES = [
    (
        mail(
            "Hallo,\n\n1 : Klantenbeheer salon\n2 : 3 jaar\n3 : afspraken plannen\n"
            "4 : naam en gsm-nummer\n5 : klanten\n\nMvg\nJan"
        ),
        {
            "subject": "Klantenbeheer salon",
            "duration": "3 jaar",
            "nature_purpose": "afspraken plannen",
            "data_types": "naam en gsm-nummer",
            "data_subjects": "klanten",
        },
        False,
    ),
    (
        mail(
            "hi,\nsubject matter of the processing: booking system\n"
            "duration of the processing: 2 years\nthanks"
        ),
        {"subject": "booking system", "duration": "2 years"},
        False,
    ),
    (mail("Bonjour,\nLa durée est de 5 ans.\nCordialement"), {"duration": "5 ans"}, False),
    (mail("akkoord, groetjes Jan"), {}, True),
    (
        mail("Soort persoonsgegevens die worden verwerkt:\n- naam\n- adres\n\nGroeten"),
        {"data_types": "- naam\n- adres"},
        False,
    ),
    (mail("I agree.\n\n--\nJan Peeters\nCEO"), {}, True),
    (mail("2. 1 jaar\n\n2. 2 jaar"), {"duration": "2 jaar"}, False),
    (
        mail("1. Objet du traitement : gestion des rendez-vous\n4) Nom, téléphone"),
        {"subject": "gestion des rendez-vous", "data_types": "Nom, téléphone"},
        False,
    ),
    (
        mail(
            "",
            html="<html><body><div>3: facturatie</div><div>5: klanten</div>"
            "<div id='divRplyFwdMsg'><b>Van:</b> iBeauty<br>1. Onderwerp: oud</div></body></html>",
        ),
        {"nature_purpose": "facturatie", "data_subjects": "klanten"},
        False,
    ),
    (mail("Wij gaan niet akkoord met deze overeenkomst."), {}, False),
]


def _norm(value: str) -> str:
    return " ".join(value.replace("-", " ").split()).lower().strip(". ")


@pytest.mark.parametrize(("raw", "fields", "accept"), CASES)
def test_held_out_reply(raw: bytes, fields: dict[str, str], accept: bool) -> None:
    reading = read_reply(raw, "ibeauty")
    assert {k: _norm(v) for k, v in reading.fields.items()} == {
        k: _norm(v) for k, v in fields.items()
    }
    assert reading.accept is accept
