"""Compose outgoing mails (pure: data in, EmailMessage out) and flatten them to bytes."""

from __future__ import annotations

import re
import secrets
import sys
from dataclasses import dataclass
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formataddr, formatdate
from typing import Any

from bot.core.settings import TenantSettings
from bot.outbox import b64
from templates import render_email

# Parsing and folding headers is most of what composing a mail costs, and most headers of a
# bulk send's mails are the same (From, the parts' Content-Type...): each distinct header is
# parsed and folded once. The header objects are immutable; the bytes are the stdlib's.
CACHED = 4096


class _Headers(HeaderRegistry):
    def __init__(self) -> None:
        super().__init__()
        self.parsed: dict[tuple[str, str], BaseHeader] = {}
        self.classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        # The stdlib makes a new class for every header it parses (type() each time).
        cls = self.classes.get(name.lower())
        if cls is None:
            cls = self.classes[name.lower()] = super().__getitem__(name)
        return cls

    def __call__(self, name: str, value: str) -> BaseHeader:
        if _plain(name, value):
            return _Plain(name, value)  # type: ignore[return-value]
        key = (name.lower(), value)
        header = self.parsed.get(key)
        if header is None:
            if len(self.parsed) >= CACHED:
                self.parsed.clear()
            header = self.parsed[key] = super().__call__(name, value)
        return header


# Headers whose value dpabot makes and that differ in every mail (the address, the reply
# token, the contract's number, the Message-ID): parsing each (the stdlib's header parser,
# about 40 % of composing an invitation, bench/bulk_send.py under py-spy) only to print it
# again as it was is skipped when the value is one the stdlib would print unchanged.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOMAIN = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_DOMAIN}")
_ID = rf"<{_ATOM}(?:\.{_ATOM})*@{_DOMAIN}>"
_MSGIDS = re.compile(rf"{_ID}(?: {_ID})*")
_TEXT = re.compile(r"[\x21-\x7e]+( [\x21-\x7e]+)*")
_PLAIN = {
    "to": _ADDRESS,
    "reply-to": _ADDRESS,
    "message-id": _MSGIDS,
    "in-reply-to": _MSGIDS,
    "references": _MSGIDS,
    "subject": _TEXT,
    "auto-submitted": _TEXT,
    "x-dpabot-kind": _TEXT,
    # pdf_part's, for a plain file name: the stdlib breaks it after the ";" when too long.
    "content-disposition": re.compile(r'attachment; filename="[A-Za-z0-9._-]+"'),
}
LINE = 78  # the stdlib's folding width: a longer header is folded by the stdlib


def _plain(name: str, value: object) -> bool:
    """Whether the stdlib would print ``name: value`` as given: a one-line ASCII value of the
    expected form, no encoded word in it, short enough not to be folded."""
    pattern = _PLAIN.get(name.lower())
    return (
        pattern is not None
        and isinstance(value, str)
        and all(len(line) <= LINE for line in _lines(name, value))
        and "=?" not in value
        and pattern.fullmatch(value) is not None
    )


def _lines(name: str, value: str) -> list[str]:
    """The header's lines as the stdlib folds such a value: one, or for a value with
    parameters that does not fit, broken after its first ";"."""
    line = f"{name}: {value}"
    head, semicolon, rest = value.partition("; ")
    if len(line) <= LINE or not semicolon or name.lower() != "content-disposition":
        return [line]
    return [f"{name}: {head};", f" {rest}"]


class _Plain(str):
    """A header value kept as written (see _PLAIN): what the generator and str() need of the
    stdlib's header objects."""

    name: str
    defects: tuple[()] = ()
    max_count = None

    def __new__(cls, name: str, value: str) -> _Plain:
        self = super().__new__(cls, value)
        self.name = name
        return self

    def fold(self, *, policy: Any) -> str:
        return "".join(line + policy.linesep for line in _lines(self.name, self))


class _Policy(EmailPolicy):
    def fold_binary(self, name: str, value: Any) -> bytes:
        folds: dict[tuple[str, str, str], bytes] = self.__dict__.setdefault("_folds", {})
        key = (name, type(value).__name__, str(value))
        folded = folds.get(key)
        if folded is None:
            if len(folds) >= CACHED:
                folds.clear()
            folded = folds[key] = self._fold_whole(name, value)
        return folded

    def _fold_whole(self, name: str, value: Any) -> bytes:
        if str(value).isascii():
            return super().fold_binary(name, value)
        # Python 3.11's folder drops the space between two encoded words when it folds a line
        # there: "Klant één BV" arrived as "Klantéén BV" in one subject in eight (a customer's
        # own name). Unfolded, the words are encoded in one piece and decode as written.
        return EmailPolicy.fold_binary(self.clone(max_line_length=998), name, value)


# CRLF line ends, as on the wire (RFC 5322): the sender then sends the stored bytes without
# rewriting every line end (bot/transports/smtp_wire.py).
POLICY = _Policy(header_factory=_Headers(), linesep="\r\n")


def compose(
    tenant: TenantSettings,
    *,
    kind: str,
    lang: str,
    to: str,
    token: str,
    context: dict[str, Any],
    attachments: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    in_reply_to: str | None = None,
) -> EmailMessage:
    """A mail to the customer whose replies come back to the contract's plus address."""
    rendered = render_email(kind, lang, context)
    domain = tenant.mail.address.partition("@")[2]
    msg = EmailMessage(policy=POLICY)
    msg["From"] = formataddr((tenant.mail.display_name or tenant.name, tenant.mail.address))
    msg["To"] = to
    # Replies go to local+TOKEN@domain: the token routes them to this contract.
    msg["Reply-To"] = tenant.mail.reply_address(token)
    msg["Subject"] = rendered.subject
    msg["Date"] = formatdate(localtime=False)
    # The Message-ID is made here and stored before sending, so a resend is recognisable. It
    # is 128 random bits (make_msgid's are a clock, a pid and a non-cryptographic random): a
    # reply threaded under our final mail proves its sender saw that mail.
    msg["Message-ID"] = f"<{secrets.token_hex(16)}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders must not answer
    msg["X-Dpabot-Kind"] = kind
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(rendered.text)
    # The boundaries are drawn here: the generator would draw each and then compile a regular
    # expression to search the whole mail for it (half of what composing an invitation cost).
    words = (rendered.text, rendered.html, rendered.subject)
    msg.make_alternative(boundary=_BOUNDARIES.get("alternative", words))
    msg.add_alternative(rendered.html, subtype="html")
    if attachments:
        # once: a second call fails ("Cannot convert mixed to mixed")
        msg.make_mixed(boundary=_BOUNDARIES.get("mixed", words))
    for filename, data in attachments:
        msg.attach(pdf_part(filename, data))
    return msg


class _Boundaries:
    """A boundary per kind of multipart, the same for every mail this process composes while
    none of the mail's own texts holds it (then a new one is drawn): a boundary need only be
    absent from the mail (RFC 2046), and the same Content-Type headers are parsed and folded
    once (mails differing in their boundaries only, each was parsed again: a fifth of what
    composing an invitation cost, bench/bulk_send.py under py-spy)."""

    def __init__(self) -> None:
        self.drawn: dict[str, str] = {}

    def get(self, kind: str, texts: tuple[str, ...]) -> str:
        current = self.drawn.get(kind)
        if current is None or any(current in text for text in texts):
            current = self.drawn[kind] = boundary(texts)
        return current


_BOUNDARIES = _Boundaries()


def boundary(texts: tuple[str, ...]) -> str:
    """A MIME boundary as the stdlib's generator draws one (63 random bits), that none of the
    mail's own texts holds (the only parts of it that are not base64 or fixed headers)."""
    while True:
        drawn = "=" * 15 + f"{secrets.randbelow(sys.maxsize):019d}" + "=="
        if not any(drawn in text for text in texts):
            return drawn


def pdf_part(filename: str, data: bytes) -> EmailMessage:
    """The part add_attachment(data, "application", "pdf", filename=...) makes, with the same
    headers and base64 lines, encoded in C: the stdlib encodes line by line in Python, which
    for a draft of 100 KB costs more than the rest of the mail (bench/bulk_send.py)."""
    part = EmailMessage(policy=POLICY)
    part["Content-Type"] = "application/pdf"
    # 76 characters a line (57 bytes), each ending in a newline: what the stdlib writes under
    # a 78-character line limit (encodebytes makes those lines; b64 keeps a shared start's).
    part.set_payload(b64.encode(data).decode("ascii") if data else "")
    part["Content-Transfer-Encoding"] = "base64"
    plain = f'attachment; filename="{filename}"'
    if _plain("Content-Disposition", plain):
        part["Content-Disposition"] = plain  # what set_param makes of such a name
    else:
        part["Content-Disposition"] = "attachment"
        part.set_param("filename", filename, header="Content-Disposition", replace=True)
    part["MIME-Version"] = "1.0"  # as add_attachment's new part has it
    return part


def flatten(msg: EmailMessage) -> bytes:
    """bytes(msg), the same bytes, with base64 attachments copied in whole.

    The generator splits and writes a body line by line; for the PDF's 2,000 lines of base64
    that is most of the time flattening takes. Each such body is stood in for by a marker
    while the rest is flattened, then put in place of its marker as it is.
    """
    linesep = msg.policy.linesep
    swapped: list[tuple[EmailMessage, str, str]] = []
    for part in msg.walk():
        payload = part.get_payload() if not part.is_multipart() else None
        if (
            isinstance(payload, str)
            and len(payload) > 4096
            and part.get("Content-Transfer-Encoding", "").lower() == "base64"
            and payload.endswith("\n")
            and "\r" not in payload
            and payload.isascii()
        ):
            marker = f"dpabot-body-{secrets.token_hex(16)}"
            part.set_payload(marker)
            swapped.append((part, marker, payload))  # type: ignore[arg-type]
    try:
        raw = bytes(msg)
    finally:
        for part, _, payload in swapped:
            part.set_payload(payload)
    for _, marker, payload in swapped:
        body = payload if linesep == "\n" else payload.replace("\n", linesep)
        # The generator writes the marker without a line end; the body brings its own.
        raw = raw.replace(marker.encode("ascii"), body.encode("ascii"), 1)
    return raw


@dataclass(frozen=True)
class FlatMail:
    """A composed mail as bytes with the headers the outbox stores beside them (a mail made in
    the CPU pool travels back this way)."""

    raw: bytes
    message_id: str
    from_addr: str
    to_addr: str
    subject: str


def flat(msg: EmailMessage) -> FlatMail:
    return FlatMail(
        flatten(msg), str(msg["Message-ID"]), str(msg["From"]), str(msg["To"]), str(msg["Subject"])
    )
