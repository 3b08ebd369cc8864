"""One SMTP mail transaction (MAIL, RCPT, DATA) for a stored mail, over an aiosmtplib client,
with the DATA payload made by plain byte operations.

aiosmtplib's sendmail() runs a regular expression over the whole message three times (line
ends for SIZE, line ends again and dot-stuffing for DATA): for an invitation of 110 KB, mostly
its base64 PDF, that was the biggest CPU cost of the sending process, more than the TLS and
the socket (bench/bulk_send.py). A stored mail already has CRLF line ends (the composer writes
them); `wire()` checks that by counting and dot-stuffs with bytes.replace, giving the bytes
aiosmtplib would send. The rest is aiosmtplib's own commands, as sendmail() uses them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import aiosmtplib
from aiosmtplib.protocol import normalize_message_line_endings


def wire(raw: bytes) -> tuple[bytes, int]:
    """The DATA payload of a message (CRLF line ends, lines starting with a dot doubled,
    the closing CRLF.CRLF) and the message's size for SIZE= (RFC 1870: with CRLFs, before the
    dots are doubled): what aiosmtplib's sendmail() sends and declares."""
    crlf = raw.count(b"\r\n")
    if raw.count(b"\n") != crlf or raw.count(b"\r") != crlf:
        raw = normalize_message_line_endings(raw)  # a lone CR or LF: aiosmtplib's own way
    elif not raw.endswith(b"\r\n"):
        raw += b"\r\n"
    size = len(raw)
    # With CRLF line ends only, a line starts at the message's start or after a CRLF.
    stuffed = raw.replace(b"\r\n.", b"\r\n..")
    if stuffed.startswith(b"."):
        stuffed = b"." + stuffed
    return stuffed + b".\r\n", size


async def sendmail_wire(
    smtp: aiosmtplib.SMTP,
    sender: str,
    recipients: Sequence[str],
    raw: bytes,
    *,
    mail_options: Sequence[str] = (),
) -> dict[str, aiosmtplib.SMTPResponse]:
    """smtp.sendmail(sender, recipients, raw, mail_options=...) with the payload from wire():
    the same commands, the same errors (SMTPRecipientsRefused when every recipient is
    refused, the envelope reset after a refusal), the refused recipients returned."""
    payload, size = wire(raw)
    options = list(mail_options)
    encoding = "utf-8" if any(o.lower() == "smtputf8" for o in options) else "ascii"
    if smtp.supports_extension("size"):
        options.insert(0, f"size={size}")
    try:
        await smtp.mail(sender, options=options, encoding=encoding)
        refused: list[aiosmtplib.SMTPRecipientRefused] = []
        for recipient in recipients:
            try:
                await smtp.rcpt(recipient, encoding=encoding)
            except aiosmtplib.SMTPRecipientRefused as exc:
                refused.append(exc)
        if len(refused) == len(recipients):
            raise aiosmtplib.SMTPRecipientsRefused(refused)
        start = await smtp.execute_command(b"DATA")
        if start.code != aiosmtplib.SMTPStatus.start_input:
            raise aiosmtplib.SMTPDataError(start.code, start.message)
        protocol = smtp.protocol
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        # What aiosmtplib's DATA does after the 354, with the payload already made: nothing
        # else uses this connection meanwhile (a connection sends one mail at a time).
        protocol.write(payload)
        response = await protocol.read_response(timeout=smtp.timeout)
        if response.code != aiosmtplib.SMTPStatus.completed:
            raise aiosmtplib.SMTPDataError(response.code, response.message)
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
        with contextlib.suppress(ConnectionError, aiosmtplib.SMTPResponseException):
            await smtp.rset()  # as sendmail() does: the next mail starts a clean envelope
        raise
    return {e.recipient: aiosmtplib.SMTPResponse(e.code, e.message) for e in refused}
