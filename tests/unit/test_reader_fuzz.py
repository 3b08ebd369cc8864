"""Malformed mails through the reader: it answers with a reading or its own error, never a
crash (the seeded mails of bench/fuzz_reader.py; the bench runs 10,000 and times them)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from handlers.reader import read_reply
from handlers.reader.errors import ReaderError
from handlers.reader.model import Interpretation

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import fuzz_reader

TEMPLATES = fuzz_reader.TEMPLATES


@pytest.mark.parametrize("shape", fuzz_reader.SHAPES, ids=lambda f: f.__name__)
def test_hostile_shapes_are_read_or_refused_in_words(shape) -> None:
    rng = random.Random(7)
    for n in range(3):
        raw = shape(rng)
        try:
            reading = read_reply(raw, TEMPLATES[n % len(TEMPLATES)], {})
        except ReaderError as exc:
            assert str(exc).startswith("The reply could not be read")
            continue
        assert isinstance(reading, Interpretation)


def test_seeded_mutations_of_real_replies_never_crash_the_reader() -> None:
    outcomes = {"read": 0, "refused": 0}
    for i, (_kind, raw) in enumerate(fuzz_reader.mails(400, seed=20261204)):
        try:
            read_reply(raw, TEMPLATES[i % len(TEMPLATES)], {})
            outcomes["read"] += 1
        except ReaderError:
            outcomes["refused"] += 1
    assert sum(outcomes.values()) == 400
    assert outcomes["read"] > 300  # most damaged mails still say something


def test_deep_html_still_yields_the_answers_above_the_nesting() -> None:
    raw = fuzz_reader.HEAD + (
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>1. Klantenbeheer van de salon</p>"
        + b"<div>" * 20000
        + b"x"
    )
    reading = read_reply(raw, "ibeauty", {})
    assert reading.fields.get("subject") == "Klantenbeheer van de salon"
