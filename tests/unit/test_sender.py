"""Strict sender reading and DMARC alignment (pure): what a person reads is what counts."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from handlers.reader.pipeline import aligned, authentication_results, organizational_domain
from handlers.reader.sender import STDLIB_STRICT, sender_of

INVITED = "karolien@mooi.example"
ATTACKER = "attacker@evil.example"
CORPUS = Path(__file__).parents[1] / "corpus"


@pytest.mark.parametrize(
    "values",
    [
        [f"{INVITED} <{ATTACKER}>"],  # an address as unquoted display name (shape 1)
        [f"{INVITED}, {ATTACKER}"],  # an address list (shape 2)
        [f"{INVITED}", f"{ATTACKER}"],  # two From headers
        [f"{ATTACKER} <{INVITED}>"],  # shape 1 the other way round: still two addresses
        [f'"{INVITED}" <{ATTACKER}>'],  # a quoted display name naming another address
        [f"=?utf-8?q?{INVITED.replace('@', '=40')}?= <{ATTACKER}>"],  # the same, encoded
        [f"{INVITED} ({ATTACKER})"],  # in a comment
        [f"Karolien <{INVITED}> {ATTACKER}"],  # trailing garbage
        [f"Team: {INVITED};"],  # a group
        [f"{INVITED} <{INVITED}>"],  # unquoted address as display name: malformed
        ["<>"],
        [""],
        [],
    ],
)
def test_ambiguous_from_headers_name_no_sender(values: list[str]) -> None:
    sender = sender_of(values)
    assert sender.address == "" and sender.problem


@pytest.mark.parametrize(
    "value",
    [
        INVITED,
        f"<{INVITED}>",
        f"Karolien Piskor <{INVITED}>",
        f'"Piskor, Karolien" <{INVITED}>',
        f"Karolien P. Piskor <{INVITED}>",  # obsolete but common: a dot in the display name
        f'"{INVITED}" <{INVITED}>',  # the display name is the address itself
        f"=?iso-8859-1?q?H=E9l=E8ne_Dupont?= <{INVITED}>",
        f"KAROLIEN <{INVITED.upper()}>",
    ],
)
def test_the_usual_shapes_name_the_sender(value: str) -> None:
    assert sender_of([value]).address == INVITED


def test_raw_utf8_display_names_are_read() -> None:
    raw = f"From: Hélène Dupont <{INVITED}>\r\nSubject: x\r\n\r\nx\r\n".encode()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    values = [v for k, v in msg.raw_items() if k == "From"]
    assert sender_of(values).address == INVITED


def test_every_corpus_reply_has_a_sender() -> None:
    # Replies as real clients write them: the strict reading must not refuse any of them.
    files = sorted(CORPUS.rglob("*.eml"))
    assert len(files) >= 75
    for path in files:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        values = [v for k, v in msg.raw_items() if k.lower() == "from"]
        assert sender_of(values).address, (path.name, values)


@pytest.mark.parametrize("strict", [False, True], ids=["own-checks", "stdlib-strict"])
@pytest.mark.parametrize(
    "value", [f"{INVITED} <{ATTACKER}>", f"{INVITED}, {ATTACKER}"], ids=["display", "list"]
)
def test_both_shapes_refused_with_and_without_the_stdlib_strict_parser(
    monkeypatch: pytest.MonkeyPatch, strict: bool, value: str
) -> None:
    if strict and not STDLIB_STRICT:
        pytest.skip("this Python's email.utils.getaddresses has no strict mode (3.13+)")
    import handlers.reader.sender

    monkeypatch.setattr(handlers.reader.sender, "STDLIB_STRICT", strict)
    assert sender_of([value]).address == ""
    assert sender_of([f"Karolien <{INVITED}>"]).address == INVITED


def test_organizational_domains_and_relaxed_alignment() -> None:
    assert organizational_domain("mail.mooi.example") == "mooi.example"
    assert organizational_domain("a.b.example.co.uk") == "example.co.uk"
    assert organizational_domain("co.uk") == ""  # a public suffix is nobody's
    assert aligned("mail.mooi.example", "mooi.example")
    assert aligned("mooi.example", "sales.mooi.example")
    assert not aligned("evil.example", "mooi.example")
    assert not aligned("example", "mooi.example")
    assert not aligned("co.uk", "mooi.co.uk")


def _ar(*lines: str) -> bytes:
    head = "".join(f"Authentication-Results: {ln}\r\n" for ln in lines)
    return f"{head}From: {INVITED}\r\nSubject: x\r\n\r\nbody\r\n".encode()


@pytest.mark.parametrize(
    ("lines", "ok"),
    [
        (["mx.ours; dmarc=pass header.from=mooi.example"], True),
        (["mx.ours; dmarc=pass header.from=evil.example"], False),
        (["mx.ours; dmarc=pass"], False),
        (["mx.ours; dkim=pass header.d=mail.mooi.example"], True),
        (["mx.ours; dkim=pass header.i=@mooi.example"], True),
        (["mx.ours; dkim=pass header.d=evil.example"], False),
        (["mx.ours; dkim=pass header.d=mooi.example; dmarc=fail header.from=mooi.example"], False),
        (["other.mx; dmarc=pass header.from=mooi.example"], False),
        # Only the topmost of ours counts: one written lower down came with the mail.
        (
            [
                "mx.ours; dmarc=fail header.from=mooi.example",
                "mx.ours; dmarc=pass header.from=mooi.example",
            ],
            False,
        ),
        (
            [
                "mx.ours; dmarc=pass header.from=mooi.example",
                "mx.ours; dmarc=fail header.from=mooi.example",
            ],
            True,
        ),
    ],
)
def test_authentication_results_need_an_aligned_pass(lines: list[str], ok: bool) -> None:
    verdict = authentication_results(_ar(*lines), "mx.ours", INVITED)
    assert verdict.ok is ok, verdict.reason
