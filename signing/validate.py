"""Offline validation of signed contracts: a JSON-ready report per signature and timestamp."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from io import BytesIO
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESStatus
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
    generic_cms,
)
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import (
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    FreshnessReqType,
)
from pyhanko_certvalidator.registry import SimpleTrustManager

from .errors import ValidationError

__all__ = [
    "SignatureReport",
    "TimestampReport",
    "ValidationReport",
    "validate_pdf",
    "validate_pdf_sync",
]

log = logging.getLogger(__name__)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _name(value: Any) -> str | None:
    return getattr(value, "name", None) if value is not None else None


@dataclass
class SignatureReport:
    """One approval or certification signature."""

    field: str
    signer_cn: str | None = None
    signer_email: str | None = None
    cert_sha256: str | None = None
    signing_time: datetime | None = None  # claimed by the signer, not proof
    timestamp_time: datetime | None = None  # from the TSA token: the proven time
    certification: bool = False
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    coverage: str | None = None
    modification_level: str | None = None
    docmdp_ok: bool | None = None
    ades_status: str | None = None  # PASSED / INDETERMINATE / FAILED
    ades_subindication: str | None = None
    ades_message: str | None = None
    # How the signing time is proven: the signature's own RFC 3161 token, or (a customer's
    # tool that adds none, e.g. an eID in Acrobat without a TSA) the first document timestamp
    # after it; PAdES accepts a document timestamp for level T.
    time_proof: str | None = None  # signature_timestamp | document_timestamp

    @property
    def ok(self) -> bool:
        if not (self.intact and self.valid and self.trusted):
            return False
        # pyHanko's AdES-LTA process requires a signature timestamp; a signature without
        # one is judged at its document timestamp's time instead (see _validate_at_poe).
        return self.ades_status == "PASSED" or self.time_proof == "document_timestamp"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["signing_time"] = _iso(self.signing_time)
        d["timestamp_time"] = _iso(self.timestamp_time)
        d["ok"] = self.ok
        return d


@dataclass
class TimestampReport:
    """One document (archive) timestamp."""

    field: str
    time: datetime | None = None
    tsa_cn: str | None = None
    intact: bool = False
    trusted: bool = False
    coverage: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["time"] = _iso(self.time)
        return d


@dataclass
class ValidationReport:
    """Everything ``dpabot verify`` and the archive manifest need about one PDF."""

    signatures: list[SignatureReport] = field(default_factory=list)
    document_timestamps: list[TimestampReport] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.signatures) and all(s.ok for s in self.signatures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "error": self.error,
            "signatures": [s.to_dict() for s in self.signatures],
            "document_timestamps": [t.to_dict() for t in self.document_timestamps],
        }


def _lta_spec(trust_roots: list[asn1_x509.Certificate]) -> PdfSignatureValidationSpec:
    # LOCAL_ONLY + MAX_DIFF_REVOCATION_VALIDATION: archives must validate from their
    # DSS alone, years later and offline; the default policy fetches fresh OCSP and
    # fails offline, and the classic path calls 10-minute-old OCSP "not recent enough".
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=trust_roots),
        revinfo_policy=CertRevTrustPolicy(
            REQUIRE_REVINFO, freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION
        ),
    )
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=policy,
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )


def _subject_email(cert: asn1_x509.Certificate) -> str | None:
    email = cert.subject.native.get("email_address")
    if email:
        return str(email)
    for general_name in cert.subject_alt_name_value or []:
        if general_name.name == "rfc822_name":
            return str(general_name.native)
    return None


async def _signature_report(
    sig: EmbeddedPdfSignature, spec: PdfSignatureValidationSpec
) -> SignatureReport:
    # str(): pyHanko's TextStringObject refers to the whole parsed PDF, which asdict() (and
    # any copy) would then deep-copy (0.9 s for one contract).
    report = SignatureReport(field=str(sig.field_name))
    try:
        cert = sig.signer_cert
        report.signer_cn = cert.subject.native.get("common_name")
        report.signer_email = _subject_email(cert)
        report.cert_sha256 = cert.sha256.hex()
        report.signing_time = sig.self_reported_timestamp
        report.certification = sig.sig_object.get("/Reference") is not None
    except Exception as exc:  # a damaged signature is reported as failing, never raised
        report.ades_status = AdESStatus.FAILED.name
        report.ades_message = f"The signature cannot be read: {type(exc).__name__}: {exc}"
        return report
    try:
        result = await ades_lta_validation(sig, spec)
    except Exception as exc:  # pyHanko raises many types on malformed input
        report.ades_status = AdESStatus.FAILED.name
        report.ades_message = f"{type(exc).__name__}: {exc}"
        return report
    report.ades_status = result.ades_subindic.status.name
    report.ades_subindication = result.ades_subindic.standard_name
    report.ades_message = result.failure_msg
    status = result.api_status
    if isinstance(status, PdfSignatureStatus):
        report.intact = status.intact
        report.valid = status.valid
        report.trusted = status.trusted
        report.coverage = _name(status.coverage)
        report.modification_level = _name(status.modification_level)
        report.docmdp_ok = status.docmdp_ok
        if status.timestamp_validity is not None:
            report.timestamp_time = status.timestamp_validity.timestamp
            report.time_proof = "signature_timestamp"
    return report


def _has_signature_timestamp(sig: EmbeddedPdfSignature) -> bool:
    try:
        tokens = generic_cms.extract_tst_data_iter(sig.signer_info, signed=False)
        return next(tokens, None) is not None
    except Exception:  # unreadable: its report fails already; no second validation path
        return True


async def _validate_at_poe(
    sig: EmbeddedPdfSignature,
    doc_ts: list[EmbeddedPdfSignature],
    trust_roots: list[asn1_x509.Certificate],
    report: SignatureReport,
) -> None:
    """A signature without its own timestamp, checked at the time the first document
    timestamp after it proves: intact, and its chain trusted and not revoked then, from the
    DSS alone (offline). Leaves ``report`` failing when no such timestamp validates."""
    later = sorted(
        (t for t in doc_ts if t.signed_revision > sig.signed_revision),
        key=lambda t: t.signed_revision,
    )
    if not later:
        report.ades_message = "No signature timestamp and no document timestamp after it."
        return
    reader = sig.reader
    try:
        dss: DocumentSecurityStore | None = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        dss = None

    def context(**kwargs: Any) -> ValidationContext:
        kwargs = {"trust_roots": trust_roots, "allow_fetching": False, **kwargs}
        return dss.as_validation_context(kwargs) if dss else ValidationContext(**kwargs)

    # The document timestamp itself is judged at the next one's time (the archive chain),
    # or now when it is the newest.
    ts_moment = None
    if len(later) > 1:
        ts_moment = later[1].self_reported_timestamp
    ts_vc = context(moment=ts_moment, retroactive_revinfo=True, revocation_mode="soft-fail")
    try:
        ts_status = await async_validate_pdf_timestamp(later[0], validation_context=ts_vc)
    except Exception as exc:  # pyHanko raises many types: reported, not raised
        report.trusted = False
        report.ades_message = f"The document timestamp proving its time fails: {exc}"
        return
    finally:
        await ts_vc.aclose()
    if not (ts_status.intact and ts_status.valid and ts_status.trusted):
        report.trusted = False
        report.ades_message = "The document timestamp proving its time does not validate."
        return
    vc = context(moment=ts_status.timestamp, retroactive_revinfo=True, revocation_mode="hard-fail")
    try:
        status = await async_validate_pdf_signature(sig, signer_validation_context=vc)
    except Exception as exc:  # pyHanko raises many types: reported, not raised
        report.trusted = False
        report.ades_message = f"{type(exc).__name__}: {exc}"
        return
    finally:
        await vc.aclose()
    report.intact, report.valid, report.trusted = status.intact, status.valid, status.trusted
    report.time_proof = "document_timestamp"
    report.timestamp_time = ts_status.timestamp
    report.ades_message = (
        "No signature timestamp: validated at the first document timestamp's time "
        f"({ts_status.timestamp.isoformat()}) with the DSS's revocation data."
    )


async def _timestamp_report(sig: EmbeddedPdfSignature, vc: ValidationContext) -> TimestampReport:
    report = TimestampReport(field=str(sig.field_name))  # str(): see above
    try:
        report.tsa_cn = sig.signer_cert.subject.native.get("common_name")
        status = await async_validate_pdf_timestamp(sig, validation_context=vc)
    except Exception as exc:  # a broken timestamp must not hide the signature results
        log.info("Document timestamp %s could not be validated: %s", sig.field_name, exc)
        return report
    report.time = status.timestamp
    report.intact = status.intact and status.valid
    report.trusted = status.trusted
    report.coverage = _name(status.coverage)
    return report


async def validate_pdf(pdf: bytes, trust_roots: list[asn1_x509.Certificate]) -> ValidationReport:
    """Validate every signature offline against ``trust_roots`` (AdES-LTA path)."""
    report = ValidationReport()
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        sigs = list(reader.embedded_regular_signatures)
        doc_ts = list(reader.embedded_timestamp_signatures)
    except Exception as exc:  # pyHanko raises many types on malformed input
        report.error = f"The PDF could not be read: {exc}"
        return report
    if not sigs:
        report.error = "The PDF contains no signature."
    spec = _lta_spec(trust_roots)
    for sig in sigs:
        sig_report = await _signature_report(sig, spec)
        if not _has_signature_timestamp(sig):
            await _validate_at_poe(sig, doc_ts, trust_roots, sig_report)
        report.signatures.append(sig_report)
    if doc_ts:
        vc_kwargs: dict[str, Any] = {
            "trust_roots": trust_roots,
            "allow_fetching": False,
            # The timestamp section is informative; the LTA verdict above already
            # covers the timestamp chain with hard revocation requirements.
            "revocation_mode": "soft-fail",
        }
        try:
            vc = DocumentSecurityStore.read_dss(reader).as_validation_context(vc_kwargs)
        except NoDSSFoundError:
            vc = ValidationContext(**vc_kwargs)
        try:
            for ts in doc_ts:
                report.document_timestamps.append(await _timestamp_report(ts, vc))
        finally:
            await vc.aclose()
    return report


def validate_pdf_sync(pdf: bytes, trust_roots: list[asn1_x509.Certificate]) -> ValidationReport:
    """CLI convenience: run :func:`validate_pdf` in a fresh event loop (not inside a loop)."""
    try:
        asyncio.get_running_loop()
        in_loop = True
    except RuntimeError:
        in_loop = False
    if in_loop:
        raise ValidationError(
            "validate_pdf_sync was called inside a running event loop; await validate_pdf instead."
        )
    # Outside the except block so pyHanko's logged errors do not chain to the RuntimeError.
    return asyncio.run(validate_pdf(pdf, trust_roots))
