"""Opening a PKCS#12 key file: one plain sentence for each way it fails, never the passphrase."""

from __future__ import annotations

from pathlib import Path

from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from .errors import SigningError

__all__ = ["open_pkcs12"]


def open_pkcs12(
    path: Path, passphrase: bytes | None, what: str
) -> tuple[PrivateKeyTypes, x509.Certificate, list[x509.Certificate]]:
    """(key, certificate, the other certificates) of a PKCS#12 file; ``what`` names the file
    in the sentence of a SigningError (e.g. "signing key", "customer CA")."""
    path = Path(path)
    if not path.exists():
        raise SigningError(f"The {what} file {path} does not exist.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"The {what} file {path} cannot be read ({exc.strerror}).") from exc
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError as exc:
        if not _is_pfx(data):
            raise SigningError(
                f"The {what} file {path} is not a PKCS#12 (.p12/.pfx) file."
            ) from exc
        if not passphrase:
            raise SigningError(
                f"The {what} file {path} needs a passphrase and none was given."
            ) from exc
        raise SigningError(f"The passphrase of the {what} file {path} is wrong.") from exc
    if key is None or cert is None:
        raise SigningError(
            f"The {what} file {path} must hold a private key and its certificate; it does not."
        )
    return key, cert, list(extra or [])


def _is_pfx(data: bytes) -> bool:
    """Whether the bytes are a PKCS#12 structure at all (whatever its passphrase)."""
    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        pfx["auth_safe"]["content_type"].native  # noqa: B018 - parsing is the check
    except (ValueError, TypeError, KeyError):
        return False
    return True
