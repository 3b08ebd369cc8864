"""The inbound pipeline's checks, pure: each small named step looks at a mail and returns, or
raises one ``Refused`` with the outcome to record (the Mailman 3 habit: rules decide, one
place acts). bot.mail.inbound runs them in order, catches ``Refused`` once, and only a mail
that passed them all reaches the database step that applies it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core.settings import TenantSettings
from bot.domain.workflow import OPEN_STATES, State
from handlers.reader.mime import ParsedMail
from handlers.reader.pipeline import (
    authenticate,
    authentication_results,
    dkim_signature,
    screen,
)


class Refused(Exception):
    """A step's verdict: the mail is kept with this outcome and not applied.

    ``notice``: the customer is answered with this notice (the sender was the customer, only
    the mail was unusable), with ``limit`` in it; otherwise the sender learns nothing."""

    def __init__(self, outcome: str, reason: str, *, notice: str = "", limit: str = "") -> None:
        super().__init__(reason)
        self.outcome, self.reason, self.notice, self.limit = outcome, reason, notice, limit


class Bounce(Refused):
    """A delivery status notification: it names the contract it bounced for."""


@dataclass(frozen=True)
class Received:
    """What the checks look at: the mail as read, its raw bytes, and the tenant's rules."""

    mail: ParsedMail
    raw: bytes
    tenant: TenantSettings

    @property
    def oversize(self) -> bool:
        return len(self.raw) > self.tenant.mail.max_message_bytes


def head(raw: bytes) -> bytes:
    """The header block of a raw mail (routing and sender checks need nothing more)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        end = raw.find(sep)
        if end >= 0:
            return raw[: end + len(sep)]
    return raw[:65536]


def screened(r: Received) -> None:
    """Our own mail, auto-replies and bounces never get an answer (no loops)."""
    verdict = screen(r.mail, r.tenant.mail.address)
    if verdict.outcome == "bounce":
        raise Bounce(verdict.outcome, verdict.reason)
    if not verdict.ok:
        raise Refused(verdict.outcome, verdict.reason)


def routed(found: bool) -> None:
    """The reply address (or thread) names an open contract of this tenant."""
    if not found:
        raise Refused("unknown_token", "no open contract of this tenant matches the reply address")


DnsLookup = Callable[..., bytes]


def authenticated(r: Received, invited: str, dkim_dns: DnsLookup | None = None) -> None:
    """From is one unambiguous allowed address, and the tenant's DKIM/DMARC rules are met."""
    cfg = r.tenant.mail
    verdict = authenticate(
        r.mail,
        invited,
        allow_same_domain=cfg.allow_same_domain,
        also_allowed=cfg.allowed_senders.get(invited.lower(), ()),
    )
    if verdict.ok and cfg.authserv_id:
        verdict = authentication_results(r.raw, cfg.authserv_id, r.mail.from_addr)
    if verdict.ok and cfg.dkim_verify:
        verdict = dkim_signature(r.raw, r.mail.from_addr, dkim_dns)
    if not verdict.ok:
        raise Refused(verdict.outcome, verdict.reason)


def contract_open(state: str) -> None:
    """A reply to a closed contract (completed, declined, expired, …) changes nothing."""
    if State(state) not in OPEN_STATES - {State.DRAFT}:
        raise Refused("closed_contract", f"contract is {state}")


def _mb(n: int) -> str:
    return f"{n / 1048576:.3g}"


def within_limits(r: Received) -> None:
    """Over the size of a mail or of one attachment: kept, and the customer is told."""
    cfg = r.tenant.mail
    if r.oversize:
        raise Refused(
            "refused_too_large",
            f"{len(r.raw)} bytes",
            notice="too_large",
            limit=_mb(cfg.max_message_bytes),
        )
    if any(len(a.data) > cfg.max_attachment_bytes for a in r.mail.attachments):
        raise Refused(
            "refused_attachment",
            f"{len(r.raw)} bytes",
            notice="attachment_too_large",
            limit=_mb(cfg.max_attachment_bytes),
        )
