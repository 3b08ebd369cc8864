"""Strict sender reading and DMARC alignment (pure): what a person reads is what counts."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from handlers.reader import authres
from handlers.reader.mime import parse_mail
from handlers.reader.pipeline import (
    aligned,
    authentication_results,
    dkim_signature,
    organizational_domain,
)
from handlers.reader.sender import STDLIB_STRICT, header_block_problem, sender_of
from tests.mails import dkim_key

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
        # attack2: base64 encoded words whose decoded display name is the customer's address
        ["=?utf-8?b?a2Fyb2xpZW5AbW9vaS5leGFtcGxl?= <attacker@evil.example>"],
        [f'"Karolien ({INVITED})" <{ATTACKER}>'],  # in a quoted display name, in parentheses
        [f"Karolien <{INVITED}> (via {ATTACKER})"],  # a trailing comment
        [f"Karolien <{INVITED}>, undisclosed-recipients:;"],  # a trailing group
        [f"undisclosed-recipients:; Karolien <{INVITED}>"],  # a leading group
        [f"Karolien <{INVITED}>\x00<{ATTACKER}>"],  # a NUL byte
        [f"Karolien <{INVITED}\x00>"],
        [f"Karolien <{INVITED}>\r\nFrom: {ATTACKER}"],  # CR LF inside one value
        [f"{INVITED}\n <{ATTACKER}>"],
        [f'"{INVITED}"@evil.example'],  # the customer's address as a quoted local part
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


@pytest.mark.parametrize(
    "value",
    [
        "karolien@m\u043e\u043ei.example",  # Cyrillic o: another domain, whatever it looks like
        "karolien@xn--mooi-x1a.example",  # a punycode (IDN) cousin
        "karolien@mooi.example.evil.example",
        "karolien%mooi.example@evil.example",
        f"karolien\uff20mooi.example <{ATTACKER}>",  # a full-width @ in the display name
        f"karolien at mooi.example <{ATTACKER}>",
    ],
)
def test_look_alikes_are_never_the_customer(value: str) -> None:
    assert sender_of([value]).address != INVITED


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


# The stdlib's strict parser exists from Python 3.13 (and 3.11.10 / 3.12.6) on: where it does,
# both readings are tried; where it does not, there is nothing of it to test.
@pytest.mark.parametrize(
    "strict",
    [False, True] if STDLIB_STRICT else [False],
    ids=["own-checks", "stdlib-strict"][: 1 + STDLIB_STRICT],
)
@pytest.mark.parametrize(
    "value", [f"{INVITED} <{ATTACKER}>", f"{INVITED}, {ATTACKER}"], ids=["display", "list"]
)
def test_both_shapes_refused_with_and_without_the_stdlib_strict_parser(
    monkeypatch: pytest.MonkeyPatch, strict: bool, value: str
) -> None:
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


# --- attack2: the header block, RFC 8601 read by its grammar, DKIM's own signer ---------------


@pytest.mark.parametrize(
    ("head", "problem"),
    [
        (b"From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n", ""),
        (b"From: a@b.example\nSubject: x\n folded\n\nbody\n", ""),
        (b"From x@y Mon Jan  1 00:00:00 2024\nFrom: a@b.example\n\n", ""),  # mbox's line
        (b"X-A: b\rFrom: a@b.example\r\n\r\n", "bare carriage return"),
        (b"From: a@b.example\r\r\nSubject: x\r\n\r\n", "bare carriage return"),
        (b"From: a@b.example\x00\r\n\r\n", "NUL"),
        (b" folded: first\r\nFrom: a@b.example\r\n\r\n", "continuation"),
        (b"Subject : x\r\nFrom: a@b.example\r\n\r\n", "not a header field"),
        (b"Subject: x\r\ngarbage\r\nFrom: a@b.example\r\n\r\n", "not a header field"),
        (b"From: a@b.example\r\n\r\nbody with a bare \r and \x00\r\n", ""),  # body: fine
    ],
)
def test_a_header_block_read_two_ways_is_named(head: bytes, problem: str) -> None:
    found = header_block_problem(head)
    assert (problem in found and bool(found)) if problem else found == "", found
    if problem:
        assert parse_mail(head).from_addr == "" and "two ways" in parse_mail(head).from_problem


@pytest.mark.parametrize(
    ("lines", "ok"),
    [
        # A "pass" the grammar does not make a result: the sender's own envelope address, a
        # quoted string, a comment, another method's property, a method named otherwise.
        (
            [f"mx.ours; spf=softfail smtp.mailfrom=dmarc=pass.header.from=x@www.{INVITED[9:]}"],
            False,
        ),
        (
            ['mx.ours; spf=pass smtp.mailfrom="dkim=pass header.d=mooi.example x"@evil.example'],
            False,
        ),
        (
            [
                "mx.ours; spf=pass smtp.mailfrom=dkim=pass@evil.example "
                "smtp.helo=header.d=mooi.example"
            ],
            False,
        ),
        (['mx.ours; arc=pass arc.chain="dkim=pass header.d=mooi.example x"'], False),
        (
            ["mx.ours; spf=pass (dkim=pass header.d=mooi.example; x) smtp.mailfrom=evil.example"],
            False,
        ),
        (
            ["mx.ours; spf=pass (a (dkim=pass header.d=mooi.example) b) smtp.mailfrom=e.example"],
            False,
        ),
        (["mx.ours; x-dkim=pass header.d=mooi.example"], False),
        (['mx.ours; dkim=fail reason="dkim=pass header.d=mooi.example" header.d=e.example'], False),
        # Unreadable: nothing in it counts, not even a pass before the damage.
        (["mx.ours; dmarc=pass header.from=mooi.example; dkim=pass (open"], False),
        (["mx.ours; dmarc=pass header.from=mooi.example; dkim=pass )"], False),
        (['mx.ours; dmarc=pass header.from=mooi.example; x="open'], False),
        (["mx.ours; dmarc pass header.from=mooi.example"], False),
        # DMARC: exactly the From domain; any failure beside a pass refuses.
        (["mx.ours; dmarc=pass header.from=www.mooi.example"], False),
        (["mx.ours; dmarc=pass header.from=example"], False),
        (
            ["mx.ours; dmarc=pass header.from=mooi.example; dmarc=fail header.from=mooi.example"],
            False,
        ),
        (["mx.ours; dmarc=pass header.from=mooi.example header.from=evil.example"], False),
        (
            ["mx.ours; dkim=pass header.d=mooi.example; dmarc=quarantine header.from=mooi.example"],
            False,
        ),
        # The authserv-id is ours exactly, not a name that starts with it or contains it.
        (["mx.ours.evil.example; dmarc=pass header.from=mooi.example"], False),
        (['"mx.ours"x; dmarc=pass header.from=mooi.example'], False),
        # What real servers write.
        (
            [
                "mx.ours; dkim=pass (2048-bit key; unprotected) header.d=mooi.example "
                "header.i=@mooi.example header.a=rsa-sha256 header.s=sel header.b=AbC+/9="
            ],
            True,
        ),
        (
            [
                "mx.ours 1; spf=pass (mx.ours: domain of karolien@mooi.example designates "
                "192.0.2.1 as permitted sender) smtp.mailfrom=karolien@mooi.example; dkim=pass "
                "header.i=@mooi.example header.s=s1 header.b=xyz; dmarc=pass (p=NONE sp=NONE "
                "dis=NONE) header.from=MOOI.EXAMPLE"
            ],
            True,
        ),
        (
            [
                'mx.ours; dmarc=pass reason="aligned; fine" policy.dmarc=none '
                "header.from=mooi.example"
            ],
            True,
        ),
        (
            [
                "mx.ours;dkim=pass header.d=mooi.example;dmarc=none action=none "
                "header.from=mooi.example;"
            ],
            True,
        ),
        (["mx.ours (Postfix); auth=pass smtp.auth=x; dkim=pass header.d=mail.mooi.example"], True),
    ],
)
def test_authentication_results_are_read_by_their_grammar(lines: list[str], ok: bool) -> None:
    verdict = authentication_results(_ar(*lines), "mx.ours", INVITED)
    assert verdict.ok is ok, verdict.reason


def test_rfc8601_results_and_properties() -> None:
    parsed = authres.parse(
        'mx.ours 1 (c); spf=softfail (x (y) z) smtp.mailfrom="a b;c"@e.example; '
        "dkim/1 = pass header.d=d.example header.b=a=b/c; none"
    )
    assert parsed.authserv_id == "mx.ours"
    spf, dkim_ = parsed.results
    assert (spf.method, spf.result, spf.props) == (
        "spf",
        "softfail",
        {"smtp.mailfrom": ["a b;c@e.example"]},
    )
    assert dkim_.one("header.d") == "d.example" and dkim_.one("header.b") == "a=b/c"
    assert authres.authserv_id_of("mx.ours; dkim=pass (open") == "mx.ours"
    with pytest.raises(authres.Unreadable):
        authres.parse("mx.ours; dkim=pass (open")


def test_dkim_aligns_the_domain_of_the_signature_dkimpy_verified() -> None:
    import dkim

    pem, record = dkim_key()
    keys = {b"sel._domainkey.evil.example.": record, b"sel._domainkey.mooi.example.": record}

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return keys.get(name, b"")

    raw = f"From: Karolien <{INVITED}>\r\nSubject: akkoord\r\n\r\nAKKOORD\r\n".encode()
    evil = dkim.sign(raw, b"sel", b"evil.example", pem, include_headers=[b"from", b"subject"])
    # Python reads the hidden signature (d=mooi.example) first, dkimpy verifies evil.example's.
    hidden = b"X-Note: hi\rDKIM-Signature: v=1; a=rsa-sha256; d=mooi.example; s=sel; h=from; "
    hidden += b"bh=AAAA; b=AAAA\r\n"
    assert dkim.verify(hidden + evil + raw, dnsfunc=dns)
    assert not dkim_signature(hidden + evil + raw, INVITED, dns).ok
    assert not dkim_signature(evil + raw, INVITED, dns).ok
    # The customer's domain signing: counts; behind someone else's signature too.
    good = dkim.sign(raw, b"sel", b"mooi.example", pem, include_headers=[b"from", b"subject"])
    assert dkim_signature(good + raw, INVITED, dns).ok
    assert dkim_signature(evil + good + raw, INVITED, dns).ok
    # A body length limit (l=): anyone may append to the signed start.
    part = dkim.sign(raw, b"sel", b"mooi.example", pem, include_headers=[b"from"], length=True)
    assert dkim.verify(part + raw + b"\r\nand more\r\n", dnsfunc=dns)
    verdict = dkim_signature(part + raw + b"\r\nand more\r\n", INVITED, dns)
    assert not verdict.ok and "l=" in verdict.reason
