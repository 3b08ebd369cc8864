"""Inbound mail steps before any state changes: route, screen, authenticate, extract (pure)."""

from __future__ import annotations

import email.parser
import email.policy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from publicsuffixlist import PublicSuffixList

from handlers.reader import authres
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


def _domain_of(value: str | None) -> str:
    """The domain of a property value: ``mooi.be``, ``@mooi.be`` or ``k@mooi.be``."""
    return (value or "").rpartition("@")[2].lower().strip(".")


def authentication_results(raw: bytes, authserv_id: str, from_addr: str) -> Verdict:
    """DKIM or DMARC passed for the From domain, per our own server's Authentication-Results.

    Only the topmost header naming our authserv-id counts (RFC 8601 5: the receiving server
    adds its own above everything else and removes forged copies; a copy further down came with
    the mail). It is read by its grammar (handlers.reader.authres): a "pass" inside a property
    value (the sender's own envelope address, a quoted string, a comment) is no result. A
    DMARC pass counts for exactly the From domain (DMARC's header.from is that domain: another
    one means the server read another From than we did); any other DMARC verdict than pass or
    none refuses. A DKIM pass counts for a signing domain aligned with the From domain
    (DMARC's relaxed alignment, RFC 7489 3.1): "dkim=pass header.d=evil.example" says nothing
    of a mail whose From is at another domain.
    """
    ours = None
    for name, value in _headers(raw):
        if name != "authentication-results":
            continue
        serv = authres.authserv_id_of(value)
        if serv is not None and serv.lower() == authserv_id.lower():
            ours = value
            break
    if ours is None:
        return Verdict(False, "unauthenticated", f"no Authentication-Results from {authserv_id}")
    try:
        results = authres.parse(ours).results
    except authres.Unreadable as exc:
        return Verdict(
            False,
            "unauthenticated",
            f"the Authentication-Results of {authserv_id} cannot be read ({exc}): "
            "nothing in it counts",
        )
    from_domain = _domain(from_addr)
    found = ", ".join(f"{r.method}={r.result}" for r in results) or "no result"
    dmarc = [r for r in results if r.method == "dmarc"]
    failed = [r.result for r in dmarc if r.result not in ("pass", "none")]
    elsewhere = [
        _domain_of(r.one("header.from"))
        for r in dmarc
        if r.result == "pass" and _domain_of(r.one("header.from")) != from_domain
    ]
    if failed or elsewhere:
        what = f"dmarc={failed[0]}" if failed else f"dmarc=pass for {elsewhere[0] or '(no domain)'}"
        return Verdict(
            False,
            "unauthenticated",
            f"{authserv_id} reports {what} for a mail whose From domain is "
            f"{from_domain or '(none)'} ({found})",
        )
    if any(r.result == "pass" for r in dmarc):
        return Verdict(True)
    for r in results:
        # header.d names the signing domain; header.i (the agent, in or under it) only without.
        signer = _domain_of(r.one("header.d") if "header.d" in r.props else r.one("header.i"))
        if r.method == "dkim" and r.result == "pass" and aligned(signer, from_domain):
            return Verdict(True)
    return Verdict(
        False,
        "unauthenticated",
        f"{authserv_id} reports {found}, with no pass aligned with the From domain "
        f"{from_domain or '(none)'}",
    )


DnsFunc = Callable[..., bytes]
# At most this many signatures of one mail are tried (each may need a DNS query).
MAX_DKIM_SIGNATURES = 5


def dkim_signature(raw: bytes, from_addr: str, dnsfunc: DnsFunc | None = None) -> Verdict:
    """A DKIM signature dkimpy verifies, whose own d= is aligned with From, covering the whole
    body.

    The domain is the one of the very signature dkimpy checks (its own reading of it), never a
    reading of ours: two parsers can disagree on which header is the first DKIM-Signature (a
    bare CR splits a line for Python and not for dkimpy), and a d= read by one beside a
    signature verified by the other would vouch for a domain that signed nothing. A signature
    with ``l=`` covers only the start of the body: anyone may append to it.
    """
    import dkim  # dkimpy: imported here so the pure steps above load without it

    from_domain = _domain(from_addr)
    try:
        verifier = dkim.DKIM(raw)
    except Exception as exc:  # dkimpy raises on headers it cannot split
        return Verdict(False, "unauthenticated", f"DKIM check failed: {type(exc).__name__}")
    count = sum(1 for name, _ in verifier.headers if name.lower() == b"dkim-signature")
    if not count:
        return Verdict(False, "unauthenticated", "no DKIM signature")
    problems = []
    for idx in range(min(count, MAX_DKIM_SIGNATURES)):
        try:
            if not verifier.verify_headerprep(idx):
                continue
            signer = bytes(verifier.domain or b"").decode("ascii", "replace").lower()
            if not aligned(signer, from_domain):
                problems.append(f"d={signer} is not aligned with From")
                continue
            if b"l" in (verifier.signature_fields or {}):
                problems.append(f"d={signer} signs only part of the body (l=)")
                continue
            ok = verifier.verify(idx, dnsfunc=dnsfunc) if dnsfunc else verifier.verify(idx)
        except Exception as exc:  # dkimpy raises on malformed signatures and DNS trouble alike
            problems.append(f"DKIM check failed: {type(exc).__name__}")
            continue
        if ok and bytes(verifier.domain or b"").decode("ascii", "replace").lower() == signer:
            return Verdict(True)
        problems.append(f"the signature of {signer} is invalid")
    return Verdict(False, "unauthenticated", "; ".join(problems) or "no usable DKIM signature")


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
