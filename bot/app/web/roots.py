"""The trust roots the verification page validates against: this installation's own.

Those are every configured tenant's ``signing.trust_roots`` and ``customer_trust_roots``, and,
where a tenant signs with the development PKI (the demo), the dev PKI's roots under
``DATA_DIR/pki`` (a replaced root is kept beside the new one, as ``archive verify`` does).
The page lists them by name and fingerprint, never by tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.settings import ServiceSettings, TenantSettings
from bot.core.tenant_signing import load_cert

__all__ = ["TrustRoot", "installation_roots"]


@dataclass(frozen=True)
class TrustRoot:
    name: str
    sha256: str
    der: bytes


def _root(cert: Any) -> TrustRoot:
    subject = cert.subject.native
    name = (
        subject.get("common_name")
        or subject.get("organization_name")
        or cert.subject.human_friendly
    )
    return TrustRoot(name=str(name), sha256=cert.sha256.hex(), der=cert.dump())


def installation_roots(settings: ServiceSettings, tenants: list[TenantSettings]) -> list[TrustRoot]:
    paths: list[Path] = []
    dev = False
    for tenant in tenants:
        paths.extend(tenant.signing.customer_trust_roots)
        if tenant.signing.mode == "dev":
            dev = True
        else:
            paths.extend(tenant.signing.trust_roots)
    if dev:
        paths.extend(sorted((settings.data_dir / "pki").glob("root*.pem")))
    roots: dict[str, TrustRoot] = {}
    for path in paths:
        root = _root(load_cert(path))
        roots.setdefault(root.sha256, root)
    return list(roots.values())
