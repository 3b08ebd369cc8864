"""dpabot signing: tenant signers, one-time customer certificates, PAdES B-T/B-LTA, checks."""

from .customer_ca import CustomerCA
from .devpki import ROOT_COMMON_NAME, DevPKI
from .errors import SigningError, TimestampError, ValidationError
from .keys import CachedKeySigner, load_pkcs12_signer, make_signer
from .pades import (
    FIELD_ARCHIVE_TIMESTAMP,
    FIELD_CUSTOMER,
    FIELD_PROCESSOR,
    add_signature_fields,
    certify_processor,
    make_lta,
    sign_customer,
)
from .validate import (
    SignatureReport,
    TimestampReport,
    ValidationReport,
    validate_pdf,
    validate_pdf_sync,
)

__all__ = [
    "FIELD_ARCHIVE_TIMESTAMP",
    "FIELD_CUSTOMER",
    "FIELD_PROCESSOR",
    "ROOT_COMMON_NAME",
    "CachedKeySigner",
    "CustomerCA",
    "DevPKI",
    "SignatureReport",
    "SigningError",
    "TimestampError",
    "TimestampReport",
    "ValidationError",
    "ValidationReport",
    "add_signature_fields",
    "certify_processor",
    "load_pkcs12_signer",
    "make_lta",
    "make_signer",
    "sign_customer",
    "validate_pdf",
    "validate_pdf_sync",
]
