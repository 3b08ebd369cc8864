"""The DATA payload made with byte operations is the one aiosmtplib makes, whatever the mail."""

from __future__ import annotations

import random

import pytest
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

from bot.transports.smtp_wire import wire


def _aiosmtplib(raw: bytes) -> tuple[bytes, int]:
    # What aiosmtplib's sendmail() declares as SIZE and writes after DATA.
    normalized = normalize_message_line_endings(raw)
    return PERIOD_REGEX.sub(b"..", normalized) + b".\r\n", len(normalized)


CASES = [
    b"",
    b".",
    b"\r\n",
    b"Subject: x\r\n\r\nbody\r\n",
    b"Subject: x\r\n\r\nno line end at the end",
    b".starts with a dot\r\n..two\r\n.\r\nmiddle\r\n.",
    b"Subject: x\n\nLF only\n.dot line\n",
    b"lone CR\rin the middle\r\n.after\r",
    b"\r\r\n\n\r.\n.\r\n.",
    "Onderwerp: één vraag\r\n\r\nBeste Karolien,\r\n.\r\n".encode(),
]


@pytest.mark.parametrize("raw", CASES)
def test_wire_is_aiosmtplibs_payload(raw: bytes) -> None:
    assert wire(raw) == _aiosmtplib(raw)


def test_wire_is_aiosmtplibs_payload_for_random_mails() -> None:
    rng = random.Random(20261205)
    alphabet = b"ab.\r\n=-"
    for _ in range(3000):
        raw = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        assert wire(raw) == _aiosmtplib(raw), raw
