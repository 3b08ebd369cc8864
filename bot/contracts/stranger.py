"""Staff notices about kept mail that anyone could have sent: grouped per sender and hour."""

from __future__ import annotations

import email.utils

from storage.notify import SENDERS_LISTED, SENDERS_PER_WINDOW, Group, TextFor

# Outcomes a stranger can cause at will, with (one mail, many mails, done to one, to many).
# unknown_token: anyone who knows the mailbox. rejected_sender and unauthenticated: anyone
# holding one reply address (a forwarded invitation, a leaked thread), From being free text.
# closed_contract: the same with a forged From where DKIM is not required, or a customer's
# looping mail client. A bounce naming no contract: anything that looks like a DSN.
# Not grouped: a bounce of one of our mails (news about that contract), refused_too_large
# and refused_attachment (only the invited sender gets there, and is answered).
_PHRASES = {
    "unknown_token": (
        "mail with an unknown reply address",
        "mails with unknown reply addresses",
        "it was kept, not used",
        "all kept, none used",
    ),
    "rejected_sender": (
        "reply not from the invited address",
        "replies not from the invited address",
        "it was kept, not used",
        "all kept, none used",
    ),
    "unauthenticated": (
        "reply that failed the DKIM/DMARC check",
        "replies that failed the DKIM/DMARC check",
        "it was kept, not used",
        "all kept, none used",
    ),
    "closed_contract": (
        "reply to a contract already closed",
        "replies to contracts already closed",
        "it was kept",
        "all kept",
    ),
    "bounce": (
        "bounce naming no contract",
        "bounces naming no contract",
        "it was kept",
        "all kept",
    ),
}


def grouped(outcome: str, has_contract: bool) -> bool:
    """Whether staff hear of this outcome through a grouped notice (see _PHRASES)."""
    return outcome in _PHRASES and (outcome != "bounce" or not has_contract)


def sender_of(from_header: str) -> str:
    """The address a mail's From names, lower-cased (the grouping key), or a stand-in."""
    address = email.utils.parseaddr(from_header)[1].strip().lower()
    return address[:320] or "(no sender address)"


def text_for(outcome: str, first: str) -> TextFor:
    """The notice's words for a group: ``first`` (with its detail) while it is one mail told
    at once; then the count, who sent them and when."""
    one, many, done_one, done_many = _PHRASES[outcome]

    def text(g: Group) -> str:
        if g.count == 1 and g.part == 1 and g.sender is not None and g.until is None:
            return first
        if g.sender is not None:
            who = g.sender
        else:
            n = f"{g.senders} or more" if g.senders >= SENDERS_LISTED else str(g.senders)
            who = (
                f"{n} other sender{'s' if g.senders != 1 else ''} (more than "
                f"{SENDERS_PER_WINDOW} in the hour: counted together)"
            )
        more = " more" if g.part > 1 else ""
        when = (
            f"since {g.since:%H:%M} UTC"
            if g.until is None
            else f"between {g.since:%H:%M} and {g.until:%H:%M} UTC"
        )
        if g.count == 1:
            return f"From {who}: 1{more} {one} {when}; {done_one}."
        return f"From {who}: {g.count}{more} {many} {when}; {done_many}."

    return text
