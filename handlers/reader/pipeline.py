"""Inbound mail steps before any state changes: route, screen, authenticate, extract (pure)."""

from __future__ import annotations

import email.parser
import email.policy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from publicsuffixlist import PublicSuffixList

from handlers.reader.mime import ParsedMail
from handlers.reader.quotes import strip_quotes

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


def authenticate(
    mail: ParsedMail,
    invited_address: str,
    *,
    allow_same_domain: bool = False,
    also_allowed: Iterable[str] = (),
) -> Verdict:
    """The invited representative may answer, and whom the tenant allows for that customer.

    Only an unambiguous From counts (handlers.sender): a header a person or a mail server reads
    as someone else is refused whatever address a lenient parser finds in it.
    """
    if mail.from_problem:
        return Verdict(False, "rejected_sender", mail.from_problem)
    sender, invited = mail.from_addr, invited_address.lower()
    if sender == invited or sender in {a.lower() for a in also_allowed}:
        return Verdict(True)
    if allow_same_domain and sender and _domain(sender) == _domain(invited):
        return Verdict(True)
    return Verdict(
        False,
        "rejected_sender",
        f"sender {sender or '(none)'} is not the invited address",
    )


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower().strip(".")


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


def organizational_domain(domain: str) -> str:
    """The registered domain under its public suffix (RFC 7489 3.2): mail.mooi.be → mooi.be.

    A name that is itself a public suffix (example, co.uk) has none: "" then.
    """
    domain = domain.lower().strip(".")
    return (_psl().privatesuffix(domain) or "") if domain else ""


def aligned(signer_domain: str, from_domain: str) -> bool:
    """DMARC's relaxed alignment: both domains share their organizational domain."""
    org = organizational_domain(signer_domain)
    return bool(org) and org == organizational_domain(from_domain)


def _headers(raw: bytes) -> list[tuple[str, str]]:
    head = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    return [(k.lower(), " ".join(str(v).split())) for k, v in head.items()]


_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"\b(dkim|dmarc)\s*=\s*([a-z]+)([^;]*)", re.I)
_HEADER_D = re.compile(r"\bheader\.(?:d|i)\s*=\s*(?:[^\s;@]*@)?([^\s;]+)", re.I)
_HEADER_FROM = re.compile(r"\bheader\.from\s*=\s*(?:[^\s;@]*@)?([^\s;]+)", re.I)


def authentication_results(raw: bytes, authserv_id: str, from_addr: str) -> Verdict:
    """DKIM or DMARC passed for the From domain, per our own server's Authentication-Results.

    Only the topmost header naming our authserv-id counts (RFC 8601 5: the receiving server
    adds its own above everything else and removes forged copies; a copy further down came with
    the mail). A pass counts only for a domain aligned with the From domain (DMARC's relaxed
    alignment, RFC 7489 3.1): "dmarc=pass header.from=evil.example" says nothing of a mail
    whose From is at another domain.
    """
    ours = None
    for name, value in _headers(raw):
        if name != "authentication-results":
            continue
        value = _COMMENT.sub("", value)
        serv = value.split(";", 1)[0].split()
        if serv and serv[0].lower() == authserv_id.lower():
            ours = value
            break
    if ours is None:
        return Verdict(False, "unauthenticated", f"no Authentication-Results from {authserv_id}")
    from_domain = _domain(from_addr)
    results = [(m[1].lower(), m[2].lower(), m[3]) for m in _RESULT.finditer(ours)]
    dmarc = [(res, _HEADER_FROM.search(props)) for kind, res, props in results if kind == "dmarc"]
    if any(res == "pass" and d and aligned(d[1], from_domain) for res, d in dmarc):
        return Verdict(True)
    # A DMARC verdict other than pass or none is the domain owner's "do not trust this".
    dmarc_failed = any(res not in ("pass", "none") for res, _ in dmarc)
    for kind, res, props in results if not dmarc_failed else ():
        d = _HEADER_D.search(props)
        if kind == "dkim" and res == "pass" and d and aligned(d[1], from_domain):
            return Verdict(True)
    found = ", ".join(f"{k}={r}" for k, r, _ in results) or "no dkim/dmarc result"
    return Verdict(
        False,
        "unauthenticated",
        f"{authserv_id} reports {found}, with no pass aligned with the From domain "
        f"{from_domain or '(none)'}",
    )


DnsFunc = Callable[..., bytes]
_DKIM_D = re.compile(r"(?:^|;)\s*d\s*=\s*([^;\s]+)")


def dkim_signature(raw: bytes, from_addr: str, dnsfunc: DnsFunc | None = None) -> Verdict:
    """Verify the mail's first DKIM signature with dkimpy; its d= must align with From."""
    import dkim  # dkimpy: imported here so the pure steps above load without it

    sig = next((v for k, v in _headers(raw) if k == "dkim-signature"), None)
    if sig is None:
        return Verdict(False, "unauthenticated", "no DKIM signature")
    d = _DKIM_D.search(sig.replace(" ", ""))
    if not d or not aligned(d[1], _domain(from_addr)):
        return Verdict(False, "unauthenticated", "DKIM signature not aligned with From")
    try:
        ok = dkim.verify(raw, dnsfunc=dnsfunc) if dnsfunc else dkim.verify(raw)
    except Exception as exc:  # dkimpy raises on malformed signatures and DNS trouble alike
        return Verdict(False, "unauthenticated", f"DKIM check failed: {type(exc).__name__}")
    return Verdict(True) if ok else Verdict(False, "unauthenticated", "DKIM signature invalid")


_MSGID = re.compile(rb"<[^<>\s]{3,250}@[^<>\s]{1,250}>")
_PLUS = re.compile(rb"\+([a-z2-7]{26})@", re.I)


def bounce_references(raw: bytes) -> tuple[set[str], set[str]]:
    """Message-IDs and reply tokens a bounce quotes (in its report or the returned headers)."""
    ids = {m.decode("ascii", "replace") for m in _MSGID.findall(raw)}
    tokens = {m.decode().lower() for m in _PLUS.findall(raw)}
    return ids, tokens


def own_words(mail: ParsedMail) -> str:
    """The reply text with the quoted original and signature removed."""
    return strip_quotes(mail.text)
