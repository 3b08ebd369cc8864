"""Spot a PDF the customer signed themselves among a reply's attachments (pure: bytes in)."""

from __future__ import annotations

from io import BytesIO

from handlers.reader.mime import Attachment, ParsedMail

# Signature fields that are dpabot's own (signing.pades): a PDF signed only in these is the
# final PDF sent back as it was (a plain reply quoting the attachment), not a signature.
_OURS = frozenset({"Processor", "ArchiveTimestamp"})


def _is_pdf(att: Attachment) -> bool:
    return att.content_type == "application/pdf" or att.filename.lower().endswith(".pdf")


def signed_attachment(mail: ParsedMail) -> bytes | None:
    """The first PDF attachment carrying a signature that is not dpabot's, or None."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    for att in mail.attachments:
        if not _is_pdf(att) or b"/ByteRange" not in att.data:
            continue
        try:
            sigs = PdfFileReader(BytesIO(att.data), strict=False).embedded_signatures
            names = {s.field_name for s in sigs}
        except Exception:  # a broken PDF is no signed return; the reader treats it as usual
            continue
        if names - _OURS:
            return att.data
    return None
