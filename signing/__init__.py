"""dpabot signing: tenant signers, one-time customer certificates, PAdES B-T/B-LTA, checks.

PKCS#11 tenant keys live in signing.pkcs11 (imported on use: it needs python-pkcs11).
"""

from .customer_ca import CustomerCA
from .devpki import ROOT_COMMON_NAME, DevPKI
from .errors import SigningError, TimestampError, ValidationError
from .keys import CachedKeySigner, load_pkcs12_signer, make_signer
from .pades import (
    FIELD_ARCHIVE_TIMESTAMP,
    FIELD_CUSTOMER,
    FIELD_PROCESSOR,
    SigningOrder,
    add_signature_fields,
    approve_processor,
    certify_processor,
    make_lta,
    seal,
    sign_both,
    sign_customer,
)
from .returned import ReturnedVerdict, check_returned_pdf
from .stamp import Stamp
from .tsa import FallbackTimeStamper
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
    "FallbackTimeStamper",
    "ReturnedVerdict",
    "SignatureReport",
    "SigningError",
    "SigningOrder",
    "Stamp",
    "TimestampError",
    "TimestampReport",
    "ValidationError",
    "ValidationReport",
    "add_signature_fields",
    "approve_processor",
    "certify_processor",
    "check_returned_pdf",
    "load_pkcs12_signer",
    "make_lta",
    "make_signer",
    "seal",
    "sign_both",
    "sign_customer",
    "validate_pdf",
    "validate_pdf_sync",
]
