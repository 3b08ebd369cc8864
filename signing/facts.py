"""What a signed PDF says about each signature, read from the PDF itself (no validation).

Per signature: the signer certificate's subject, issuer and serial, the signing time signed
into it, and its timestamp token's authority and time; per document timestamp its authority
and time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from io import BytesIO
from typing import Any

from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.general import extract_certificate_info
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

__all__ = ["SignatureFacts", "signature_facts"]


@dataclass(frozen=True)
class SignatureFacts:
    """One signature or document timestamp of a PDF, as its bytes state it."""

    field: str
    kind: str  # "signature" | "document_timestamp"
    name: str  # the subject's common name
    subject: str
    issuer: str
    serial: str  # hex, as certificates print it
    signing_time: dt.datetime | None
    tsa: str
    tsa_time: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("signing_time", "tsa_time"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def _serial(number: int) -> str:
    return f"{number:X}"


def _token_facts(token: cms.SignedData) -> tuple[str, dt.datetime | None]:
    """The TSA's subject and the time of one timestamp token (its SignedData)."""
    info = token["encap_content_info"]["content"].parsed
    tsa = extract_certificate_info(token).signer_cert.subject.human_friendly
    gen_time = info["gen_time"].native
    return tsa, gen_time


def signature_facts(pdf: bytes) -> list[SignatureFacts]:
    """Every signature and document timestamp of ``pdf``, in the order they were added."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    out = []
    for sig in reader.embedded_signatures:
        cert = sig.signer_cert
        if sig.sig_object_type == "/DocTimeStamp":
            tsa, at = _token_facts(sig.signed_data)
            kind, signing_time = "document_timestamp", None
        else:
            tokens = list(extract_tst_data_iter(sig.signer_info, signed=False))
            tsa, at = _token_facts(tokens[0]) if tokens else ("", None)
            kind, signing_time = "signature", sig.self_reported_timestamp
        out.append(
            SignatureFacts(
                field=str(sig.field_name),
                kind=kind,
                name=str(cert.subject.native.get("common_name", "")),
                subject=cert.subject.human_friendly,
                issuer=cert.issuer.human_friendly,
                serial=_serial(cert.serial_number),
                signing_time=signing_time,
                tsa=tsa,
                tsa_time=at,
            )
        )
    return out
