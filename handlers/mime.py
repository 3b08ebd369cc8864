"""Read a raw mail into the parts the pipeline needs (pure: bytes in, data out)."""

from __future__ import annotations

import email
import email.policy
import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses


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
    attachments: tuple[Attachment, ...] = ()
    defects: tuple[str, ...] = ()


_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h\d|p|div|li|tr)\b[^>]*>", re.I)
_DROP = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.I | re.S)
_QUOTE_HTML = re.compile(r"<blockquote\b.*?</blockquote\s*>", re.I | re.S)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML body, quoted blocks marked with '>' so quote stripping sees them."""
    markup = _DROP.sub("", markup)
    markup = _QUOTE_HTML.sub(lambda m: "\n> " + _TAG.sub(" ", m.group(0)) + "\n", markup)
    markup = _BLOCK.sub("\n", markup)
    text = html.unescape(_TAG.sub("", markup))
    lines = [re.sub(r"[ \t\xa0]+", " ", ln).strip() for ln in text.splitlines()]
    return "\n".join(lines)


def _addresses(values: list[str]) -> tuple[str, ...]:
    return tuple(addr.lower() for _, addr in getaddresses(values) if addr)


def _body_text(msg: EmailMessage) -> str:
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
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
    if part.get_content_type() == "text/html":
        return html_to_text(content)
    return content.replace("\r\n", "\n")


def _attachments(msg: EmailMessage) -> tuple[Attachment, ...]:
    found = []
    try:
        parts = list(msg.iter_attachments())
    except Exception:
        return ()
    for part in parts:
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            found.append(Attachment(part.get_filename() or "", part.get_content_type(), data))
    return tuple(found)


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse leniently: a broken structure still yields what can be read, with defects listed."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)

    def header(name: str) -> str:
        try:
            return str(msg.get(name, "") or "").strip()
        except Exception:  # undecodable header: keep going without it
            return ""

    defects = [type(d).__name__ for d in msg.defects]
    return ParsedMail(
        message_id=header("Message-ID"),
        from_addr=(_addresses([header("From")]) or ("",))[0],
        to_addrs=_addresses([header("To"), header("Cc")]),
        delivered_to=_addresses(msg.get_all("Delivered-To", []) or []),
        subject=header("Subject"),
        in_reply_to=header("In-Reply-To"),
        references=tuple(header("References").split()),
        text=_body_text(msg),
        headers={
            k: header(k)
            for k in (
                "Auto-Submitted",
                "X-Autoreply",
                "Precedence",
                "X-Auto-Response-Suppress",
                "Content-Type",
                "Return-Path",
            )
        },
        attachments=_attachments(msg),
        defects=tuple(defects),
    )
