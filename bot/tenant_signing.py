"""Per-tenant signing material: the development PKI, or a PKCS#12 key and a TSA URL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.settings import TenantSettings


@dataclass
class TenantSigning:
    """What signing needs for one tenant; built once at start, keys parsed once."""

    processor_signer: Any
    customer_ca: Any
    tsa_url: str
    trust_roots: list[Any]
    trust_root_paths: list[Path]


def load_cert(path: Path) -> Any:
    """A trust root from a PEM or DER file."""
    from asn1crypto import pem, x509

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"The trust root {path} cannot be read ({exc}).") from exc
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return x509.Certificate.load(data)


def for_tenant(tenant: TenantSettings, pki: Any | None) -> TenantSigning:
    s = tenant.signing
    if s.mode == "dev":
        if pki is None:
            raise ConfigError(
                f"Tenant {tenant.slug} uses the development PKI but it is not started."
            )
        return TenantSigning(
            processor_signer=pki.processor_signer(tenant.slug),
            customer_ca=pki.customer_ca(tenant.slug),
            tsa_url=pki.tsa_url,
            trust_roots=[pki.root_cert],
            trust_root_paths=[pki.root_cert_path],
        )
    from signing import CustomerCA, load_pkcs12_signer

    assert s.pkcs12_file is not None and s.tsa_url is not None  # checked when loading
    passphrase = s.passphrase.resolve("PKCS#12 passphrase").encode() if s.passphrase else None
    if s.customer_ca_pkcs12 is None or s.customer_ca_crl_url is None:
        raise ConfigError(
            f"{tenant.source}: key 'signing.customer_ca_pkcs12' and 'customer_ca_crl_url' are "
            "needed to sign customers' acceptances in mode 'pkcs12'."
        )
    ca_pass = (
        s.customer_ca_passphrase.resolve("customer CA passphrase").encode()
        if s.customer_ca_passphrase
        else None
    )
    if not s.trust_roots:
        raise ConfigError(f"{tenant.source}: key 'signing.trust_roots' must list the root PEM(s).")
    return TenantSigning(
        processor_signer=load_pkcs12_signer(s.pkcs12_file, passphrase),
        customer_ca=CustomerCA.from_pkcs12(
            s.customer_ca_pkcs12, ca_pass, crl_url=s.customer_ca_crl_url
        ),
        tsa_url=s.tsa_url,
        trust_roots=[load_cert(p) for p in s.trust_roots],
        trust_root_paths=list(s.trust_roots),
    )
