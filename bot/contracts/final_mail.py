"""The final-version mail: which version it carries, and whether a reply names that version.

An acceptance signs one exact document, so it must name it without doubt. Every final mail
says its version and a short fingerprint (the start of the PDF's SHA-256, so anyone can check
it against the attachment) in its subject and body, and is stored with its version. A reply
counts as accepting the current version only when its thread headers point at a final mail of
that version or it quotes that version's fingerprint; the subject alone (the same for every
version) never does.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

from bot.outbox.mailer import compose
from bot.outbox.queue import mail_context

# 12 hex digits (48 bits): unguessable for someone who has not seen the PDF (the mailed final's
# bytes are not predictable from its text: templates.render_pdf(unique=True)), short
# enough to read over the phone.
_FINGERPRINT_DIGITS = 12
_QUOTED = re.compile(r"(?<![0-9a-f])([0-9a-f]{4})[-\s]?([0-9a-f]{4})[-\s]?([0-9a-f]{4})", re.I)
_SHA256 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", re.I)


def fingerprint(sha256: str) -> str:
    """The short fingerprint shown to people: ``A1B2-C3D4-E5F6``."""
    digits = sha256[:_FINGERPRINT_DIGITS].upper()
    return "-".join(digits[i : i + 4] for i in range(0, _FINGERPRINT_DIGITS, 4))


def quotes_version(text: str, sha256: str) -> bool:
    """The text quotes this version's fingerprint (or its whole SHA-256)."""
    wanted = sha256[:_FINGERPRINT_DIGITS].lower()
    if any("".join(m.groups()).lower() == wanted for m in _QUOTED.finditer(text)):
        return True
    return any(m.group(0).lower() == sha256.lower() for m in _SHA256.finditer(text))


def final_mail(
    tenant: Any,
    customer: Any,
    contract: Any,
    fields: dict[str, str],
    *,
    version: int,
    pdf: bytes,
    sha256: str,
    processor_signed: bool,
    in_reply_to: str | None = None,
    notice: str = "",
) -> EmailMessage:
    """The final version for signature, its version and fingerprint in subject and body."""
    return compose(
        tenant,
        kind="final",
        lang=customer.language,
        to=customer.email,
        token=contract.reply_token,
        in_reply_to=in_reply_to,
        context=mail_context(
            tenant,
            customer,
            contract,
            fields,
            sha256=sha256,
            version=version,
            fingerprint=fingerprint(sha256),
            processor_signed=processor_signed,
            notice=notice,
        ),
        attachments=[(f"verwerkersovereenkomst-{contract.id}-v{version}.pdf", pdf)],
    )
