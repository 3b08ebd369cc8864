"""The tenant's customer-signing CA: one-time certificates for a customer who replied AKKOORD."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .errors import SigningError
from .keyfiles import open_pkcs12
from .keys import CachedKeySigner, make_signer

__all__ = ["CustomerCA"]

# Long enough for the signing job and its retries, short enough that a leaked
# key is worthless tomorrow; starts a little in the past to absorb clock skew.
_VALIDITY = dt.timedelta(days=1)
_BACKDATE = dt.timedelta(minutes=5)


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class CustomerCA:
    """Issues short-lived certificates to customers' representatives, one per signature."""

    def __init__(
        self,
        ca_cert: x509.Certificate,
        ca_key: CertificateIssuerPrivateKeyTypes,
        crl_url: str,
        *,
        chain: list[x509.Certificate] | None = None,
        ca_issuers_url: str | None = None,
        ocsp_url: str | None = None,
    ) -> None:
        self.ca_cert = ca_cert
        self._ca_key = ca_key
        self.crl_url = crl_url
        self.ca_issuers_url = ca_issuers_url
        self.ocsp_url = ocsp_url
        # The signer embeds these so a validator only needs the root.
        self._chain = [_to_asn1(ca_cert)] + [_to_asn1(c) for c in chain or []]
        self._ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value

    @classmethod
    def from_pkcs12(
        cls, path: Path, passphrase: bytes | None, *, crl_url: str, ocsp_url: str | None = None
    ) -> CustomerCA:
        """Load the CA key and certificate of a production tenant from a PKCS#12 file."""
        key, cert, extra = open_pkcs12(path, passphrase, "customer-signing CA")
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise SigningError(f"The customer-signing CA key in {path} must be RSA or ECDSA.")
        return cls(cert, key, crl_url, chain=list(extra or []), ocsp_url=ocsp_url)

    def issue_one_time(self, name: str, company: str, email: str) -> CachedKeySigner:
        """Create a fresh key and a one-day certificate for ``name`` of ``company`` (``email``)."""
        # ECDSA P-256: key generation takes well under a millisecond (RSA: ~100 ms) and
        # poppler's pdfsig verifies it.
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self.certificate_for(key.public_key(), name, company, email)
        return make_signer(cert.public_bytes(serialization.Encoding.DER), key, self._chain)

    def certificate_for(
        self, public_key: CertificatePublicKeyTypes, name: str, company: str, email: str
    ) -> x509.Certificate:
        """A short-lived signing certificate of this CA for a representative's key."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        subject_attrs = [x509.NameAttribute(NameOID.COMMON_NAME, name)]
        if company:
            subject_attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, company))
        subject_attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(subject_attrs))
            .issuer_name(self.ca_cert.subject)
            .public_key(public_key)
            # Random 127-bit serial: unique without a counter shared between workers.
            .serial_number(secrets.randbits(127) | 1)
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            # pdfsig 22.12 reports "Unknown issue with Certificate" without an EKU.
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            )
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(self._ca_ski),
                critical=False,
            )
            # The CA never revokes a one-time certificate, so its CRL is valid for any
            # serial without per-certificate state. Validators that can use a CRL do so.
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            full_name=[x509.UniformResourceIdentifier(self.crl_url)],
                            relative_name=None,
                            reasons=None,
                            crl_issuer=None,
                        )
                    ]
                ),
                critical=False,
            )
        )
        access = []
        if self.ocsp_url:
            # OCSP too: pyHanko's past validation (an archive years later) finds no
            # revocation data for a leaf whose intermediate CA signs its own CRL, only
            # OCSP. Validators ask OCSP first, so the CRL then stays out of the DSS.
            access.append(
                x509.AccessDescription(
                    x509.oid.AuthorityInformationAccessOID.OCSP,
                    x509.UniformResourceIdentifier(self.ocsp_url),
                )
            )
        if self.ca_issuers_url:
            access.append(
                x509.AccessDescription(
                    x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
                    x509.UniformResourceIdentifier(self.ca_issuers_url),
                )
            )
        if access:
            builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
        return builder.sign(self._ca_key, hashes.SHA256())
