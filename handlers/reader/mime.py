"""Read a raw mail into the parts the pipeline needs (pure: bytes in, data out)."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses

from handlers.reader.html import html_to_text as _html_to_text
from handlers.reader.sender import Sender, header_block_problem, sender_of


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    from_addr: str
    to_addrs: tuple[str, ...]
    delivered_to: tuple[str, ...]
    subject: str
    in_reply_to: str
    references: tuple[str, ...]
    text: str
    headers: dict[str, str] = field(default_factory=dict)
    # Why the From header names no unambiguous sender ("" when from_addr is that sender).
    from_problem: str = ""
    attachments: tuple[Attachment, ...] = ()
    defects: tuple[str, ...] = ()
    # The text/plain and text/html bodies as sent (HTML unconverted), for the reply reader.
    plain: str = ""
    html: str = ""


def html_to_text(markup: str) -> str:
    """Visible text of an HTML body without the quoted original (see handlers.html)."""
    return _html_to_text(markup)


def _addresses(values: list[str]) -> tuple[str, ...]:
    return tuple(addr.lower() for _, addr in getaddresses(values) if addr)


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: a line ending in a space continues on the next one."""
    out: list[str] = []
    carry = ""
    for line in text.split("\n"):
        if line.endswith(" ") and line != "-- ":
            carry += line[:-1] if delsp else line
            continue
        out.append(carry + line)
        carry = ""
    if carry:
        out.append(carry)
    return "\n".join(out)


def _part_text(msg: EmailMessage, subtype: str) -> str:
    try:
        part = msg.get_body(preferencelist=(subtype,))
    except Exception:  # broken MIME trees make the stdlib walk fail in odd ways
        part = None
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    content = content.replace("\r\n", "\n")
    params = {k.lower(): v.lower() for k, v in part.get_params() or [] if isinstance(v, str)}
    if subtype == "plain" and params.get("format") == "flowed":
        content = _unflow(content, params.get("delsp") == "yes")
    return content


def _body_text(plain: str, markup: str) -> str:
    return plain if plain else html_to_text(markup) if markup else ""


def _attachments(msg: EmailMessage) -> tuple[Attachment, ...]:
    found = []
    try:
        # Every leaf, not iter_attachments(): Apple Mail puts the PDF inside a multipart/mixed
        # alternative of a multipart/alternative, where iter_attachments() never looks.
        parts = [
            p
            for p in msg.walk()
            if not p.is_multipart()
            and (
                p.get_content_disposition() == "attachment"
                or (p.get_filename() and p.get_content_maintype() != "text")
                or p.get_content_type() == "application/pdf"
            )
        ]
    except Exception:  # broken MIME trees make the stdlib walk fail oddly
        return ()
    for part in parts:
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            found.append(Attachment(part.get_filename() or "", part.get_content_type(), data))
    return tuple(found)


# No mail client sends more parts or nests multiparts deeper; beyond these the stdlib parser's
# time grows with every part and its recursion overflows, so only the headers are read.
MAX_PARTS = 200
MAX_MULTIPART = 25
# A header value longer than this is read cut (parsing a 1 MB References header takes seconds,
# and no header dpabot reads is longer in a real mail).
MAX_HEADER = 16_384


def _too_complex(raw: bytes) -> str:
    if raw.count(b"\n--") > 2 * MAX_PARTS:
        return f"more than {MAX_PARTS} MIME parts"
    if raw.lower().count(b"multipart/") > MAX_MULTIPART:
        return f"multiparts nested more than {MAX_MULTIPART} deep"
    return ""


def _header_block(raw: bytes) -> bytes:
    for sep in (b"\r\n\r\n", b"\n\n"):
        end = raw.find(sep)
        if end >= 0:
            return raw[: end + len(sep)]
    return raw[:65536]


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse leniently: a broken structure still yields what can be read, with defects listed.

    A mail too complex to parse safely (see MAX_PARTS) is read by its headers only; its body
    then says nothing, and the defects say why.
    """
    refused = _too_complex(raw)
    try:
        msg = email.message_from_bytes(
            _header_block(raw) if refused else raw, policy=email.policy.default
        )
    except RecursionError:
        refused = "a MIME structure too deep to parse"
        msg = email.message_from_bytes(_header_block(raw), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)

    raw_headers = [(k.lower(), v[:MAX_HEADER]) for k, v in msg.raw_items()]

    def all_of(name: str) -> list[str]:
        values = []
        for key, value in raw_headers:
            if key == name.lower():
                try:
                    values.append(str(email.policy.default.header_factory(name, value)).strip())
                except Exception:  # undecodable header: keep going without it
                    continue
        return values

    def header(name: str) -> str:
        return (all_of(name) or [""])[0]

    defects = [type(d).__name__ for d in msg.defects] + ([refused] if refused else [])
    plain, markup = _part_text(msg, "plain"), _part_text(msg, "html")
    sender = sender_of([v for k, v in raw_headers if k == "from"])
    ambiguous = header_block_problem(raw)
    if ambiguous:
        # Who sent it depends on which program reads the headers: nobody, for the checks.
        sender = Sender(problem=f"the header block can be read in two ways: {ambiguous}")
    return ParsedMail(
        message_id=header("Message-ID"),
        from_addr=sender.address,
        from_problem=sender.problem,
        to_addrs=_addresses([header("To"), header("Cc")]),
        delivered_to=_addresses(all_of("Delivered-To")),
        subject=header("Subject"),
        in_reply_to=header("In-Reply-To"),
        references=tuple(header("References").split()),
        text=_body_text(plain, markup),
        headers={
            k: header(k)
            for k in (
                "Auto-Submitted",
                "X-Autoreply",
                "X-Autorespond",
                "X-Failed-Recipients",
                "Precedence",
                "X-Auto-Response-Suppress",
                "Content-Type",
                "Return-Path",
            )
        },
        attachments=_attachments(msg),
        defects=tuple(defects),
        plain=plain,
        html=markup,
    )
