"""PAdES signing: processor certification (B-T), customer approval (B-T) and archiving (B-LTA)."""

from __future__ import annotations

import contextlib
import functools
import ssl
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

import aiohttp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.signers.pdf_signer import TimestampDSSContentSettings
from pyhanko.sign.timestamps import TimestampRequestError
from pyhanko.sign.validation import DocumentSecurityStore, collect_validation_info
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from .errors import SigningError, TimestampError, ValidationError
from .stamp import Stamp, stamp_style
from .tsa import FallbackTimeStamper, tsa_list

__all__ = [
    "FIELD_ARCHIVE_TIMESTAMP",
    "FIELD_CUSTOMER",
    "FIELD_PROCESSOR",
    "SigningOrder",
    "Stamp",
    "add_signature_fields",
    "approve_processor",
    "certify_processor",
    "make_lta",
    "seal",
    "sign_both",
    "sign_customer",
]

FIELD_PROCESSOR = "Processor"
FIELD_CUSTOMER = "Customer"
FIELD_ARCHIVE_TIMESTAMP = "ArchiveTimestamp"
FIELD_SEAL = "Seal"  # the processor's seal on a document dpabot issues (certificate of completion)

# The neutral stamp's font (Carlito, shipped with the templates: same layer, not importable).
_DEFAULT_FONT = (
    Path(__file__).resolve().parent.parent / "templates" / "fonts" / "Carlito-Regular.ttf"
)

# Fixed room for the CMS blob (hex, so twice the DER size): without it pyHanko signs
# once more just to measure the size. Chains here are 3-4 KB DER with the token.
_BYTES_RESERVED = 16384


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    # aiohttp loads the system CA bundle (~25 ms) for every new session; pyHanko opens
    # one per TSA request and per validation context. Load it once per process.
    return ssl.create_default_context()


@contextlib.asynccontextmanager
async def _http(session: aiohttp.ClientSession | None) -> AsyncIterator[aiohttp.ClientSession]:
    """The caller's session if given (pooling is theirs), else one for this call."""
    if session is not None:
        yield session
        return
    connector = aiohttp.TCPConnector(ssl=_ssl_context())
    async with aiohttp.ClientSession(connector=connector) as own:
        yield own


@contextlib.contextmanager
def _tsa_errors(tsa_urls: Sequence[str]) -> Iterator[None]:
    """Map every way a TSA call can fail to TimestampError (never sign without real time).

    FallbackTimeStamper raises TimestampError itself; this catches what slips past it.
    """
    where = ", ".join(tsa_urls)
    try:
        yield
    except TimestampRequestError as exc:
        raise TimestampError(
            f"The timestamp authority at {where} did not answer properly; "
            "the document was not signed and must be retried later."
        ) from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise TimestampError(
            f"The timestamp authority at {where} could not be reached; "
            "the document was not signed and must be retried later."
        ) from exc
    except PyHankoSigningError as exc:
        raise SigningError(f"The PDF could not be signed: {exc}") from exc


def add_signature_fields(
    pdf: bytes, names: Iterable[str] = (FIELD_PROCESSOR, FIELD_CUSTOMER)
) -> bytes:
    """Append empty invisible signature fields (incremental update) and set /SigFlags 3."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    for name in names:
        # box=None → zero-size rectangle: invisible, so no appearance font is needed
        # and PDF/A stays intact.
        fields.append_signature_field(writer, fields.SigFieldSpec(sig_field_name=name))
    # SignaturesExist | AppendOnly: pyHanko writes 1 and a later signature flips it to
    # 3, which its own diff analysis then flags as a suspicious change.
    acroform = writer.root["/AcroForm"]
    acroform[pdf_name("/SigFlags")] = generic.NumberObject(3)
    acroform_ref = writer.root.raw_get("/AcroForm")
    if isinstance(acroform_ref, generic.IndirectObject):
        writer.mark_update(acroform_ref)
    else:
        writer.update_root()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


# What a visible field signed without a party's own words shows: the signing time only.
_NEUTRAL_TEXT = "{date} {time_local} (Brussel/Bruxelles)\n{time_utc} UTC"


def _style(stamp: Stamp | None) -> Any:
    """The appearance drawn if the field is visible (pyHanko skips it for a zero Rect)."""
    if stamp is None:
        stamp = Stamp(_NEUTRAL_TEXT, _DEFAULT_FONT)
    return stamp_style(stamp)


async def _sign(
    pdf: bytes,
    signer: signers.Signer,
    tsa_urls: str | Sequence[str],
    meta: signers.PdfSignatureMetadata,
    session: aiohttp.ClientSession | None,
    stamp: Stamp | None = None,
) -> bytes:
    urls = tsa_list(tsa_urls)
    # Not strict: a PDF a customer's own tool signed (poppler) may reuse object numbers.
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    async with _http(session) as http:
        timestamper = FallbackTimeStamper(urls, session=http)
        pdf_signer = signers.PdfSigner(
            meta, signer=signer, timestamper=timestamper, stamp_style=_style(stamp)
        )
        with _tsa_errors(urls):
            out = await pdf_signer.async_sign_pdf(
                writer, existing_fields_only=True, bytes_reserved=_BYTES_RESERVED
            )
    return bytes(out.getbuffer())


def _meta(
    field: str, reason: str, location: str | None, *, certify: bool = False
) -> signers.PdfSignatureMetadata:
    """PAdES, SHA-256; a certification signature allows only form filling and signatures."""
    return signers.PdfSignatureMetadata(
        field_name=field,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        certify=certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,  # pyHanko reads it only when certifying
        reason=reason,
        location=location,
    )


async def certify_processor(
    pdf: bytes,
    signer: signers.Signer,
    tsa_urls: str | Sequence[str],
    *,
    reason: str,
    location: str | None = None,
    session: aiohttp.ClientSession | None = None,
    stamp: Stamp | None = None,
) -> bytes:
    """Certify the PDF in FIELD_PROCESSOR (PAdES B-T); afterwards only forms and signatures."""
    return await _sign(
        pdf,
        signer,
        tsa_urls,
        _meta(FIELD_PROCESSOR, reason, location, certify=True),
        session,
        stamp,
    )


async def sign_customer(
    pdf: bytes,
    signer: signers.Signer,
    tsa_urls: str | Sequence[str],
    *,
    reason: str,
    location: str | None = None,
    session: aiohttp.ClientSession | None = None,
    stamp: Stamp | None = None,
) -> bytes:
    """Approval signature in FIELD_CUSTOMER (PAdES B-T); ``reason`` names the evidence."""
    return await _sign(
        pdf, signer, tsa_urls, _meta(FIELD_CUSTOMER, reason, location), session, stamp
    )


async def approve_processor(
    pdf: bytes,
    signer: signers.Signer,
    tsa_urls: str | Sequence[str],
    *,
    reason: str,
    location: str | None = None,
    session: aiohttp.ClientSession | None = None,
    stamp: Stamp | None = None,
) -> bytes:
    """Approval (not certification) signature in FIELD_PROCESSOR (PAdES B-T).

    For the customer-first order: a certification signature must be the first signature
    of a document, so a processor signing after the customer approves like the customer.
    """
    return await _sign(
        pdf, signer, tsa_urls, _meta(FIELD_PROCESSOR, reason, location), session, stamp
    )


SigningOrder = Literal["processor_first", "customer_first"]


async def sign_both(
    pdf: bytes,
    processor: signers.Signer,
    customer: signers.Signer,
    tsa_urls: str | Sequence[str],
    order: SigningOrder = "processor_first",
    *,
    processor_reason: str,
    customer_reason: str,
    location: str | None = None,
    trust_roots: list[asn1_x509.Certificate] | None = None,
    session: aiohttp.ClientSession | None = None,
    processor_stamp: Stamp | None = None,
    customer_stamp: Stamp | None = None,
) -> bytes:
    """Both signatures on a PDF that has the two empty fields, in the given order.

    ``processor_first``: processor certification (forms and signatures still allowed), then
    the customer's approval. ``customer_first``: the customer's approval, then the
    processor's approval signature. With ``trust_roots`` the result is archived (B-LTA),
    else it stops at two B-T signatures.
    """
    if order == "processor_first":
        signed = await certify_processor(
            pdf,
            processor,
            tsa_urls,
            reason=processor_reason,
            location=location,
            session=session,
            stamp=processor_stamp,
        )
        signed = await sign_customer(
            signed,
            customer,
            tsa_urls,
            reason=customer_reason,
            session=session,
            stamp=customer_stamp,
        )
    elif order == "customer_first":
        signed = await sign_customer(
            pdf, customer, tsa_urls, reason=customer_reason, session=session, stamp=customer_stamp
        )
        signed = await approve_processor(
            signed,
            processor,
            tsa_urls,
            reason=processor_reason,
            location=location,
            session=session,
            stamp=processor_stamp,
        )
    else:
        raise SigningError(
            f"Unknown signing order {order!r}: use processor_first or customer_first."
        )
    if trust_roots is None:
        return signed
    return await make_lta(signed, trust_roots, tsa_urls, session=session)


async def seal(
    pdf: bytes,
    signer: signers.Signer,
    tsa_urls: str | Sequence[str],
    trust_roots: list[asn1_x509.Certificate],
    *,
    reason: str,
    location: str | None = None,
    session: aiohttp.ClientSession | None = None,
) -> bytes:
    """Certify a document dpabot issues itself in a new invisible field, then B-LTA."""
    with_field = add_signature_fields(pdf, (FIELD_SEAL,))
    signed = await _sign(
        with_field, signer, tsa_urls, _meta(FIELD_SEAL, reason, location, certify=True), session
    )
    return await make_lta(signed, trust_roots, tsa_urls, session=session)


async def make_lta(
    pdf: bytes,
    trust_roots: list[asn1_x509.Certificate],
    tsa_urls: str | Sequence[str],
    *,
    session: aiohttp.ClientSession | None = None,
) -> bytes:
    """Embed validation data (DSS) for every signature and add a document timestamp: B-LTA.

    Both go into one incremental revision: fewer revisions, one write. The TSAs in
    ``tsa_urls`` are tried in order.
    """
    urls = tsa_list(tsa_urls)
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    sigs = list(reader.embedded_regular_signatures)
    if not sigs:
        raise ValidationError("The PDF has no signature to archive.")
    async with _http(session) as http:
        vc = ValidationContext(
            trust_roots=trust_roots,
            allow_fetching=True,
            revocation_mode="hard-fail",
            fetcher_backend=AIOHttpFetcherBackend(session=http),
        )
        try:
            return await _add_dss_and_timestamp(reader, sigs, vc, urls, http)
        finally:
            # Releases anything the context provisioned itself (the session is ours).
            await vc.aclose()


async def _add_dss_and_timestamp(
    reader: PdfFileReader,
    sigs: list[EmbeddedPdfSignature],
    vc: ValidationContext,
    tsa_urls: list[str],
    http: aiohttp.ClientSession,
) -> bytes:
    paths = []
    for sig in sigs:
        try:
            # Validates each signer (and signature timestamp) chain, fetching
            # OCSP/CRLs into vc; hard-fail means missing revinfo is an error.
            paths.extend(await collect_validation_info(sig, vc))
        except (PathBuildingError, PathValidationError) as exc:
            raise ValidationError(
                f"The certificate of signature {sig.field_name!r} could not be validated "
                f"for archiving: {exc}"
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise ValidationError(
                f"Revocation data for signature {sig.field_name!r} could not be fetched; "
                "retry later."
            ) from exc
    writer = IncrementalPdfFileWriter.from_reader(reader)
    # No VRI (deprecated in PAdES baseline): one DSS covering every signature.
    DocumentSecurityStore.supply_dss_in_writer(writer, None, paths=paths, validation_context=vc)
    stamper = signers.PdfTimeStamper(
        FallbackTimeStamper(tsa_urls, session=http),
        field_name=FIELD_ARCHIVE_TIMESTAMP,
    )
    with _tsa_errors(tsa_urls):
        out = await stamper.async_timestamp_pdf(
            writer,
            "sha256",
            validation_context=vc,
            bytes_reserved=_BYTES_RESERVED,
            # The TSA's own chain and revinfo go in the same revision, before the stamp.
            dss_settings=TimestampDSSContentSettings(update_before_ts=True, include_vri=False),
        )
    return bytes(out.getbuffer())
