"""A tenant's own keys, made here: the processor's signing key with a self-signed certificate
(or a request for a CA to certify it, and the certificate it returns put with the key) and the
customer CA with its empty CRL. Pure: bytes in memory; the caller writes the files."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
)
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .errors import SigningError

__all__ = ["KeyFiles", "fingerprint", "make_tenant_keys", "with_certificate"]

SIGNER_YEARS = 3
CA_YEARS = 10
_YEAR = dt.timedelta(days=365)
# Certificates start a little in the past so a clock a few minutes behind accepts them.
_BACKDATE = dt.timedelta(minutes=5)


@dataclass
class KeyFiles:
    """File suffix (e.g. "signer.p12") → bytes, and the certificates for the summary."""

    files: dict[str, bytes] = field(default_factory=dict)
    signer_cert: x509.Certificate | None = None
    ca_cert: x509.Certificate | None = None


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate, as colon-separated hex (how browsers and certutil show it)."""
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def make_tenant_keys(
    *,
    name: str,
    email: str,
    passphrase: bytes,
    ca_passphrase: bytes,
    key_type: Literal["ec", "rsa"] = "ec",
    csr: bool = False,
) -> KeyFiles:
    """Every file of a tenant's keys, in memory."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - _BACKDATE
    out = KeyFiles()
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = (
        ec.generate_private_key(ec.SECP256R1())
        if key_type == "ec"
        else rsa.generate_private_key(public_exponent=65537, key_size=3072)
    )
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, email),
        ]
    )
    cert = _signer_certificate(key, subject, email, now)
    out.signer_cert = cert
    out.files["signer.p12"] = _p12(f"{name} signing key", key, cert, passphrase)
    out.files["signer.pem"] = cert.public_bytes(serialization.Encoding.PEM)
    if csr:
        request = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(subject)
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
            .add_extension(_SIGNER_KU, critical=True)
            .add_extension(_EKU, critical=False)
            .sign(key, hashes.SHA256())
        )
        out.files["signer.csr"] = request.public_bytes(serialization.Encoding.PEM)

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    ca_cert = _ca_certificate(ca_key, name, now)
    out.ca_cert = ca_cert
    out.files["customer-ca.p12"] = _p12(f"{name} customer CA", ca_key, ca_cert, ca_passphrase)
    out.files["customer-ca.pem"] = ca_cert.public_bytes(serialization.Encoding.PEM)
    out.files["customer-ca.crl"] = _empty_crl(ca_key, ca_cert, now).public_bytes(
        serialization.Encoding.DER
    )
    return out


_SIGNER_KU = x509.KeyUsage(
    digital_signature=True,
    content_commitment=True,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    # A self-signed certificate is its own issuer: NSS (pdfsig) trusts it as a root only
    # when it is a CA, and a CA's certificate may sign certificates.
    key_cert_sign=True,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
# pdfsig 22.12 reports "Unknown issue with Certificate" for a CA-issued signer without an EKU.
_EKU = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION])


def _signer_certificate(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    subject: x509.Name,
    email: str,
    now: dt.datetime,
) -> x509.Certificate:
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(secrets.randbits(127) | 1)
        .not_valid_before(now)
        .not_valid_after(now + SIGNER_YEARS * _YEAR)
        # CA:TRUE with path length 0: NSS accepts a self-signed trust anchor only as a CA.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_SIGNER_KU, critical=True)
        # No extended key usage here, unlike a CA-issued signer: pdfsig 22.12 (NSS) reports
        # "Unknown issue with Certificate" for a self-signed CA certificate carrying
        # emailProtection, and "Certificate is Trusted." without it (tried with CT,C,C and P).
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )


def _ca_certificate(key: rsa.RSAPrivateKey, name: str, now: dt.datetime) -> x509.Certificate:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{name} customer signing CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(secrets.randbits(127) | 1)
        .not_valid_before(now)
        .not_valid_after(now + CA_YEARS * _YEAR)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _empty_crl(
    key: CertificateIssuerPrivateKeyTypes, ca_cert: x509.Certificate, now: dt.datetime
) -> x509.CertificateRevocationList:
    """The CA never revokes (its certificates live one day), so one empty CRL serves the CA's
    whole life: valid until the CA certificate expires."""
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now)
        .next_update(ca_cert.not_valid_after_utc)
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )


def _p12(
    label: str,
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    cert: x509.Certificate,
    passphrase: bytes,
) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        label.encode(), key, cert, None, serialization.BestAvailableEncryption(passphrase)
    )


def with_certificate(
    key: PrivateKeyTypes,
    cert_pem: bytes,
    chain_pem: bytes,
    passphrase: bytes,
    *,
    label: str,
) -> tuple[bytes, x509.Certificate]:
    """A new PKCS#12 of the key with the certificate a CA issued for it (and the CA's chain);
    a certificate for another key, out of date or not issued by the chain is refused."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        chain = x509.load_pem_x509_certificates(chain_pem) if chain_pem.strip() else []
    except ValueError as exc:
        raise SigningError("The certificate file is not a PEM certificate.") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise SigningError("Only EC and RSA keys are supported.")
    if cert.public_key().public_bytes(*_SPKI) != key.public_key().public_bytes(*_SPKI):
        raise SigningError("The certificate is not for this key (its public key differs).")
    now = dt.datetime.now(dt.UTC)
    if now < cert.not_valid_before_utc:
        raise SigningError(
            f"The certificate is valid only from {cert.not_valid_before_utc:%Y-%m-%d}."
        )
    if now > cert.not_valid_after_utc:
        raise SigningError(f"The certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}.")
    if chain:
        try:
            cert.verify_directly_issued_by(chain[0])
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise SigningError(
                "The certificate was not issued by the first certificate of --chain."
            ) from exc
    data = pkcs12.serialize_key_and_certificates(
        label.encode(), key, cert, chain or None, serialization.BestAvailableEncryption(passphrase)
    )
    return data, cert


_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
