"""Load tenant signing keys once and hand out pyHanko signers that reuse the parsed key."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .keyfiles import open_pkcs12

__all__ = ["CachedKeySigner", "load_pkcs12_signer", "make_signer"]


class CachedKeySigner(signers.SimpleSigner):
    """A ``SimpleSigner`` that keeps the parsed private key.

    pyHanko's ``SimpleSigner.sign_raw`` re-parses the DER key on every signature
    (about 48 ms for RSA-2048 here); parsing it once makes a signature a few ms.
    """

    def __init__(
        self,
        signing_cert: asn1_x509.Certificate,
        private_key: PrivateKeyTypes,
        chain: list[asn1_x509.Certificate],
    ) -> None:
        der = private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        super().__init__(
            signing_cert=signing_cert,
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs(chain),
        )
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        # Same mechanism dispatch as pyHanko, minus the per-call key parsing.
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
        from pyhanko.sign.general import get_pyca_cryptography_hash

        key = self._private_key
        sig_mech = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            mechanism = sig_mech.signature_algo
        except ValueError:
            mechanism = sig_mech["algorithm"].native
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hash_algo)
        if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hash_algo))
        # Anything unusual (PSS, EdDSA, …): let pyHanko handle it the slow way.
        return super().sign_raw(data, digest_algorithm)


def make_signer(
    cert: asn1_x509.Certificate | bytes,
    private_key: PrivateKeyTypes,
    chain: list[asn1_x509.Certificate] | None = None,
) -> CachedKeySigner:
    """Build a signer from a certificate (asn1crypto or DER), a parsed key and the CA chain."""
    if isinstance(cert, bytes | bytearray):
        cert = asn1_x509.Certificate.load(bytes(cert))
    return CachedKeySigner(cert, private_key, list(chain or []))


_cache: dict[Path, CachedKeySigner] = {}
_lock = threading.Lock()


def load_pkcs12_signer(path: Path, passphrase: bytes | None) -> CachedKeySigner:
    """Load a PKCS#12 file once per process (cached by resolved path) and return its signer."""
    path = Path(path).resolve()
    with _lock:
        cached = _cache.get(path)
        if cached is not None:
            return cached
        # Never echoes the passphrase or key bytes; one sentence for each way it fails.
        key, cert, extra = open_pkcs12(path, passphrase, "signing key")
        chain = [
            asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
            for c in extra or []
        ]
        signer = make_signer(cert.public_bytes(serialization.Encoding.DER), key, chain)
        _cache[path] = signer
        return signer


def signer_identity(signer: signers.Signer) -> tuple[str, str]:
    """(subject as text, SHA-256 of the certificate) of a signer, for records and manifests."""
    cert = signer.signing_cert
    assert cert is not None
    return cert.subject.human_friendly, hashlib.sha256(cert.dump()).hexdigest()
