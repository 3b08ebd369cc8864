"""The development PKI's keys: made once as PEM files, and parsed once per process (certomancer
parses a key file for every certificate and CRL it signs)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from asn1crypto import algos as asn1_algos
from asn1crypto import keys as asn1_keys
from certomancer import crypto_utils
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes


def ensure_key(path: Path, algorithm: str) -> None:
    """Generate a key once; afterwards the file is reused as is (0600, never overwritten)."""
    if path.exists():
        return
    key: PrivateKeyTypes
    if algorithm == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: two processes creating the folder at once must not swap keys under each other.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def load_key(path: Path) -> PrivateKeyTypes:
    # Our own freshly generated keys: skipping cryptography's RSA consistency check
    # saves ~40 ms per key, which is most of the start-up time otherwise.
    return serialization.load_pem_private_key(
        path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True
    )


class CachingCryptoBackend(crypto_utils.PycaCryptographyBackend):
    """Certomancer's crypto backend, but each private key is parsed once.

    Stock certomancer re-parses the CA/TSA key for every certificate, CRL, OCSP
    response and timestamp (~45 ms per RSA key), which would dominate each signature.
    """

    def __init__(self) -> None:
        self._keys: dict[bytes, PrivateKeyTypes] = {}
        self._lock = threading.Lock()

    def _parsed(self, der: bytes) -> PrivateKeyTypes:
        with self._lock:
            key = self._keys.get(der)
            if key is None:
                key = serialization.load_der_private_key(
                    der, password=None, unsafe_skip_rsa_key_validation=True
                )
                self._keys[der] = key
            return key

    def load_private_key(
        self, key_bytes: bytes, password: bytes | None
    ) -> tuple[asn1_keys.PrivateKeyInfo, asn1_keys.PublicKeyInfo]:
        if password is not None or not key_bytes.lstrip().startswith(b"-----BEGIN PRIVATE KEY"):
            return super().load_private_key(key_bytes, password)
        key = serialization.load_pem_private_key(
            key_bytes, password=None, unsafe_skip_rsa_key_validation=True
        )
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with self._lock:
            self._keys.setdefault(der, key)
        pub = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return asn1_keys.PrivateKeyInfo.load(der), asn1_keys.PublicKeyInfo.load(pub)

    def generic_sign(
        self,
        private_key: asn1_keys.PrivateKeyInfo,
        tbs_bytes: bytes,
        sd_algo: asn1_algos.SignedDigestAlgorithm,
    ) -> bytes:
        key = self._parsed(private_key.dump())
        algo = sd_algo.signature_algo
        if algo in ("rsassa_pkcs1v15", "ecdsa"):
            hash_algo = getattr(hashes, sd_algo.hash_algo.upper())()
            if isinstance(key, rsa.RSAPrivateKey) and algo == "rsassa_pkcs1v15":
                return key.sign(tbs_bytes, padding.PKCS1v15(), hash_algo)
            if isinstance(key, ec.EllipticCurvePrivateKey) and algo == "ecdsa":
                return key.sign(tbs_bytes, ec.ECDSA(hash_algo))
        return super().generic_sign(private_key, tbs_bytes, sd_algo)


def install_caching_backend() -> None:
    # certomancer exposes its backend as a module global meant to be replaced.
    if not isinstance(crypto_utils.CRYPTO_BACKEND, CachingCryptoBackend):
        crypto_utils.CRYPTO_BACKEND = CachingCryptoBackend()
