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
