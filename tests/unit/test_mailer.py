"""The fast path for mails with a PDF: the same bytes as the stdlib, whatever the PDF."""

from __future__ import annotations

import email
import email.policy
import os
import re
from email.message import EmailMessage

import pytest

from bot.outbox.mailer import flatten, pdf_part


def _mail() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "iBeauty <dpa@ibeauty.example>"
    msg["To"] = "karolien@mooi.example"
    msg["Subject"] = "Verwerkersovereenkomst – één vraag"
    msg.set_content("Beste Karolien,\n\néén vraag.\n")
    msg.add_alternative("<p>Beste Karolien, één vraag.</p>", subtype="html")
    return msg


def _same_boundaries(raw: bytes) -> bytes:
    # Each message draws its own random MIME boundaries; everything else must match.
    return re.sub(rb"={15}\d+==", b"BOUNDARY", raw)


@pytest.mark.parametrize("size", [0, 1, 56, 57, 58, 114, 100_003])
@pytest.mark.parametrize("filename", ["verwerkersovereenkomst-12-ontwerp.pdf", "contrat signé.pdf"])
def test_pdf_part_and_flatten_give_the_stdlib_bytes(size: int, filename: str) -> None:
    data = os.urandom(size)
    slow = _mail()
    slow.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    fast = _mail()
    fast.make_mixed()
    fast.attach(pdf_part(filename, data))

    assert _same_boundaries(flatten(fast)) == _same_boundaries(bytes(slow))
    # And a mail reader gets the PDF back whole, under its name.
    parsed = email.message_from_bytes(flatten(fast), policy=email.policy.default)
    (part,) = parsed.iter_attachments()  # type: ignore[attr-defined]
    assert part.get_filename() == filename and part.get_content() == data


def test_flatten_leaves_the_message_as_it_was() -> None:
    msg = _mail()
    msg.make_mixed()
    msg.attach(pdf_part("a.pdf", os.urandom(50_000)))
    before = bytes(msg)
    flatten(msg)
    assert bytes(msg) == before


def test_flatten_with_crlf_line_ends() -> None:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["To"] = "a@a.example"
    msg.set_content("hello")
    msg.add_attachment(os.urandom(20_000), maintype="application", subtype="pdf", filename="a.pdf")
    raw = flatten(msg)
    assert raw == bytes(msg)
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_headers_with_accents_decode_as_written() -> None:
    # Python 3.11's folder dropped the space between two encoded words ("Klant één BV" came
    # back "Klantéén BV"): a customer's name in the subject must arrive as written.
    import random

    from bot.outbox.mailer import POLICY

    words = ["Klant", "één", "BV", "réponses", "Société", "–", ":", "l'annexe", "[acme-7]", "ß"]
    words += ["Verwerkersovereenkomst", "x" * 30]
    rng = random.Random(7)
    for _ in range(500):
        subject = " ".join(rng.choice(words) for _ in range(rng.randrange(3, 25)))
        msg = EmailMessage(policy=POLICY)
        msg["Subject"] = subject
        msg["To"] = f"{rng.choice(words)} Désiré <d@klant.example>"
        msg.set_content("x")
        parsed = email.message_from_bytes(flatten(msg), policy=email.policy.default)
        assert parsed["Subject"] == subject
        assert parsed["To"].addresses[0].display_name == msg["To"].addresses[0].display_name


def test_composed_mails_have_crlf_line_ends_so_the_sender_sends_them_as_stored() -> None:
    from bot.outbox.mailer import POLICY
    from bot.transports.smtp_wire import wire

    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = "één vraag"
    msg.set_content("Beste,\n.een regel met een punt\n")
    msg.add_attachment(os.urandom(5000), maintype="application", subtype="pdf", filename="a.pdf")
    raw = flatten(msg)
    assert raw.count(b"\n") == raw.count(b"\r\n") == raw.count(b"\r")
    payload, size = wire(raw)
    assert size == len(raw) and payload.endswith(b"\r\n.\r\n")


def _header_bytes(policy: email.policy.EmailPolicy, name: str, value: str) -> bytes:
    msg = EmailMessage(policy=policy)
    msg[name] = value
    return bytes(msg).split(b"\r\n\r\n")[0]


_VALUES = {
    "To": [
        "k@mooi.example",
        "karolien.piskor+dpa@mooi-schoonheid.example",
        "a..b@x.example",
        '"a b"@x.example',
        "K <k@mooi.example>",
        "k@mooi",
        "é@x.example",
        "x" * 60 + "@a.be",
    ],
    "Reply-To": ["dpa+" + "a" * 26 + "@ibeauty.example", "dpa+" + "a" * 60 + "@ibeauty.example"],
    "Message-ID": [
        "<" + "f" * 32 + "@ibeauty.example>",
        "<a.b@c.example>",
        "<a..b@c.example>",
        "<a@b>",
        "<" + "f" * 70 + "@x.example>",
    ],
    "References": ["<a@b.example> <c@d.example>", "<a@b.example>  <c@d.example>"],
    "Subject": [
        "Verwerkersovereenkomst ibeauty-12: uw antwoorden",
        "a  b",
        " a",
        "a ",
        "=?utf-8?q?x?=",
        "Klant één BV",
        "w " * 40,
        "x" * 69,
        "x" * 70,
        '(a) "b" [c]',
    ],
    "Content-Disposition": [f'attachment; filename="{"v" * n}.pdf"' for n in range(1, 80, 7)]
    + ['attachment; filename="a b.pdf"', 'attachment; filename="é.pdf"'],
}


@pytest.mark.parametrize(
    ("name", "value"), [(n, v) for n, values in _VALUES.items() for v in values]
)
def test_headers_kept_as_written_print_as_the_stdlib_prints_them(name: str, value: str) -> None:
    # The composer skips parsing the values it makes itself (bot/outbox/mailer.py, _PLAIN):
    # whatever the value, the header's bytes are the stdlib's.
    from bot.outbox.mailer import POLICY

    stdlib = email.policy.default.clone(linesep="\r\n")
    assert _header_bytes(POLICY, name, value) == _header_bytes(stdlib, name, value)
