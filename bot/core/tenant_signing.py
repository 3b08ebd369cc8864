"""Per-tenant signing material: the development PKI, or a PKCS#12 file or PKCS#11 token key
and TSA URLs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.core.settings import TenantSettings


@dataclass
class TenantSigning:
    """What signing needs for one tenant; built once at start, keys parsed once."""

    processor_signer: Any
    customer_ca: Any
    tsa_urls: list[str]  # tried in order
    trust_roots: list[Any]
    trust_root_paths: list[Path]
    order: str = "processor_first"
    # Roots for customers' own certificates (returned signed PDFs); see signing.returned.
    customer_trust_roots: list[Any] = field(default_factory=list)

    @property
    def all_roots(self) -> list[Any]:
        """Roots for validating a signed contract: ours and those of customers' certificates."""
        seen: set[bytes] = set()
        roots = []
        for cert in [*self.trust_roots, *self.customer_trust_roots]:
            if cert.sha256 not in seen:
                seen.add(cert.sha256)
                roots.append(cert)
        return roots

    @property
    def tsa_url(self) -> str:
        """The first TSA (for callers that take a single URL)."""
        return self.tsa_urls[0]


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
    customer_roots = [load_cert(p) for p in s.customer_trust_roots]
    if s.mode == "dev":
        if pki is None:
            raise ConfigError(
                f"Tenant {tenant.slug} uses the development PKI but it is not started."
            )
        return TenantSigning(
            processor_signer=pki.processor_signer(tenant.slug),
            customer_ca=pki.customer_ca(tenant.slug),
            tsa_urls=[pki.tsa_url],
            trust_roots=[pki.root_cert],
            trust_root_paths=[pki.root_cert_path],
            order=s.order,
            # The dev customer CA chains to the dev root: a test customer's own certificate
            # issued by it is "recognised" in development only.
            customer_trust_roots=[pki.root_cert, *customer_roots],
        )
    # Imported here: pyHanko costs a start-up that commands which sign nothing need not pay.
    from signing import CustomerCA

    if not s.tsa_urls:
        raise ConfigError(f"{tenant.source}: key 'signing.tsa_url' (or 'tsa_urls') is needed.")
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
        processor_signer=processor_signer(tenant),
        customer_ca=CustomerCA.from_pkcs12(
            s.customer_ca_pkcs12,
            ca_pass,
            crl_url=s.customer_ca_crl_url,
            ocsp_url=s.customer_ca_ocsp_url,
        ),
        tsa_urls=list(s.tsa_urls),
        trust_roots=[load_cert(p) for p in s.trust_roots],
        trust_root_paths=list(s.trust_roots),
        order=s.order,
        customer_trust_roots=customer_roots,
    )


def processor_signer(tenant: TenantSettings) -> Any:
    """The tenant's own key: a PKCS#12 file or a key on a PKCS#11 token."""
    s = tenant.signing
    if s.mode == "pkcs11":
        if None in (s.pkcs11_lib, s.pkcs11_token, s.pkcs11_key, s.pkcs11_pin):
            raise ConfigError(
                f"{tenant.source}: key 'signing' in mode 'pkcs11' needs 'pkcs11_lib', "
                "'pkcs11_token', 'pkcs11_key' and 'pkcs11_pin'."
            )
        assert s.pkcs11_lib and s.pkcs11_token and s.pkcs11_key and s.pkcs11_pin
        try:
            from signing.pkcs11 import load_pkcs11_signer
        except ImportError as exc:
            raise ConfigError(
                f"{tenant.source}: mode 'pkcs11' needs the python-pkcs11 package ({exc})."
            ) from exc
        return load_pkcs11_signer(
            s.pkcs11_lib, s.pkcs11_token, s.pkcs11_key, s.pkcs11_pin.resolve("PKCS#11 PIN")
        )
    # Imported here: pyHanko's start-up, only for tenants that sign with a PKCS#12 file.
    from signing import load_pkcs12_signer

    assert s.pkcs12_file is not None  # checked when loading
    passphrase = s.passphrase.resolve("PKCS#12 passphrase").encode() if s.passphrase else None
    return load_pkcs12_signer(s.pkcs12_file, passphrase)
