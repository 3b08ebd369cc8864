"""Inbound mail steps before any state changes: route, screen, authenticate, extract (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.mime import ParsedMail
from handlers.quotes import strip_quotes

TOKEN_RE = re.compile(r"^[a-z2-7]{26}$")


@dataclass(frozen=True)
class Verdict:
    """Whether the pipeline may go on, and if not, the outcome to record and why."""

    ok: bool
    outcome: str = ""
    reason: str = ""


def reply_token(mail: ParsedMail, mailbox_address: str) -> str | None:
    """The token of 'local+TOKEN@domain', from Delivered-To first (set by our MTA), then To/Cc."""
    local, _, domain = mailbox_address.lower().partition("@")
    for addr in (*mail.delivered_to, *mail.to_addrs):
        a_local, _, a_domain = addr.partition("@")
        base, plus, token = a_local.partition("+")
        if plus and base == local and a_domain == domain and TOKEN_RE.match(token):
            return token
    return None


def screen(mail: ParsedMail, mailbox_address: str) -> Verdict:
    """Auto-replies, bounces and our own mail never get an answer (no loops)."""
    h = {k.lower(): v.lower() for k, v in mail.headers.items()}
    if mail.from_addr == mailbox_address.lower() or mail.from_addr.startswith(
        mailbox_address.lower().partition("@")[0] + "+"
    ):
        return Verdict(False, "ignored_own_mail", "the message comes from our own address")
    if "multipart/report" in h.get("content-type", "") or mail.from_addr.split("@")[0] in (
        "mailer-daemon",
        "postmaster",
    ):
        return Verdict(False, "bounce", "delivery status notification (bounce)")
    if (
        h.get("auto-submitted", "no") not in ("", "no")
        or h.get("x-autoreply")
        or h.get("precedence") in ("bulk", "junk", "auto_reply", "list")
    ):
        return Verdict(False, "ignored_auto_reply", "automatic reply (RFC 3834 headers)")
    return Verdict(True)


def authenticate(mail: ParsedMail, invited_address: str) -> Verdict:
    """Only the invited representative may answer for the contract."""
    if mail.from_addr != invited_address.lower():
        return Verdict(
            False,
            "rejected_sender",
            f"sender {mail.from_addr or '(none)'} is not the invited address",
        )
    return Verdict(True)


def own_words(mail: ParsedMail) -> str:
    """The reply text with the quoted original and signature removed."""
    return strip_quotes(mail.text)
