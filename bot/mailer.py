"""Compose outgoing mails (pure: data in, EmailMessage out)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any

from bot.settings import TenantSettings
from templates import render_email


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
    msg = EmailMessage()
    msg["From"] = formataddr((tenant.mail.display_name or tenant.name, tenant.mail.address))
    msg["To"] = to
    # Replies go to local+TOKEN@domain: the token routes them to this contract.
    msg["Reply-To"] = tenant.mail.reply_address(token)
    msg["Subject"] = rendered.subject
    msg["Date"] = formatdate(localtime=False)
    # The Message-ID is made here and stored before sending, so a resend is recognisable.
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders must not answer
    msg["X-Dpabot-Kind"] = kind
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    for filename, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    return msg
