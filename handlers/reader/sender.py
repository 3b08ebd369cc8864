"""Who sent a mail: exactly one well-formed From mailbox, read strictly (pure).

Python's lenient address parsers disagree on malformed headers, and a sender check that takes
the first address one of them returns can be fooled: ``karolien@x <attacker@y>`` reads as
karolien to ``getaddresses`` but as the attacker to a mail server and to a person. So the sender
is only what every reading agrees on: one From header, one mailbox, no structural defect, and
no other address anywhere in the header (display name, encoded words, comments).
"""

from __future__ import annotations

import email.policy
import inspect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.errors import InvalidHeaderDefect
from email.utils import getaddresses

from email_validator import EmailNotValidError, validate_email

# Python 3.13 (and the 3.11.10 / 3.12.6 security releases) can parse strictly; older ones
# cannot, and then only our own checks below hold (they always run).
STDLIB_STRICT = "strict" in inspect.signature(getaddresses).parameters

# Something that a person reads as a mail address, wherever it appears in the header.
_ADDRESS_LIKE = re.compile(r"[^\s<>()\[\]\",;:@]+@[^\s<>()\[\]\",;:@]+\.[^\s<>()\[\]\",;:@.]+")


@dataclass(frozen=True)
class Sender:
    """The From mailbox (lower case) when it is unambiguous, else why it is refused."""

    address: str = ""
    problem: str = ""


def _visible(raw: str) -> str:
    # 8-bit headers arrive with surrogate escapes; a person sees them as UTF-8.
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _stdlib_pairs(value: str) -> list[tuple[str, str]]:
    if STDLIB_STRICT:
        pairs = getaddresses([value], strict=True)  # type: ignore[call-arg]
    else:
        pairs = getaddresses([value])
    return [(name, addr) for name, addr in pairs if name or addr]


_FIELD = re.compile(rb"[\x21-\x39\x3b-\x7e]+:")


def header_block_problem(raw: bytes) -> str:
    """Why the header block of a raw mail can be read in two ways ("" when it cannot).

    Python's parser ends a line at a bare CR, mail servers and dkimpy do not; a line that is
    neither a field nor a continuation ends the headers for Python, not for every server. Then
    a From, a DKIM-Signature or an Authentication-Results one program sees is hidden from
    another, and the checks would judge another mail than the one that was authenticated. No
    mail program writes such a header block.
    """
    for n, line in enumerate(raw.split(b"\n")):
        line = line[:-1] if line.endswith(b"\r") else line
        if not line:
            return ""  # the end of the header block
        shown = line[:60].decode("ascii", "backslashreplace")
        if b"\r" in line:
            return f"a header line holds a bare carriage return ({shown!r}…)"
        if b"\0" in line:
            return f"a header line holds a NUL byte ({shown!r}…)"
        if line[:1] in (b" ", b"\t"):
            if n == 0:
                return "the mail begins with a continuation line"
            continue
        if not _FIELD.match(line) and not (n == 0 and line.startswith(b"From ")):
            return f"a header line is not a header field ({shown!r})"
    return ""


def sender_of(values: Sequence[str]) -> Sender:
    """The sender from the raw values of every From header of a mail."""
    if not values:
        return Sender(problem="the mail has no From header")
    if len(values) > 1:
        return Sender(problem=f"the mail has {len(values)} From headers")
    raw = values[0]
    try:
        header = email.policy.default.header_factory("from", raw)
        mailboxes = [(a.display_name, a.addr_spec) for a in header.addresses]
        groups = [g for g in header.groups if g.display_name is not None]
        defects = [d for d in header.defects if isinstance(d, InvalidHeaderDefect)]
        decoded = str(header)
    except Exception:  # the stdlib's parser fails in odd ways on crafted headers
        return Sender(problem="the From header cannot be parsed")
    shown = _visible(raw)
    if len(mailboxes) != 1 or groups:
        return Sender(problem=f"the From header does not name exactly one mailbox: {shown!r}")
    if defects:
        return Sender(problem=f"the From header is malformed: {shown!r}")
    address = mailboxes[0][1].lower()
    # Two parsers must agree: a header each reads differently is a trap for one of them.
    pairs = _stdlib_pairs(raw)
    if len(pairs) != 1 or pairs[0][1].lower() != address:
        return Sender(problem=f"the From header is ambiguous: {shown!r}")
    others = {
        m.lower().strip(".")
        for text in (shown, _visible(decoded))
        for m in _ADDRESS_LIKE.findall(text)
    } - {address}
    if others:
        return Sender(
            problem=f"the From header shows another address ({sorted(others)[0]}) beside "
            f"the mailbox {address}"
        )
    try:
        # Syntax only: no DNS, and test or intranet domains (.test, .example) are real here.
        validate_email(
            address, check_deliverability=False, globally_deliverable=False, allow_smtputf8=True
        )
    except EmailNotValidError as exc:
        return Sender(problem=f"the From address {address!r} is not valid ({exc})")
    return Sender(address=address)
