"""dpabot development PKI (NOT trusted outside dpabot): certomancer CAs, TSA, OCSP and CRLs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from certomancer.registry import (
    ArchLabel,
    CertLabel,
    CertomancerConfig,
    PKIArchitecture,
    ServiceLabel,
)
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from .customer_ca import CustomerCA
from .devpki_keys import ensure_key, install_caching_backend, load_key
from .devpki_services import DevPKIIllusionist
from .errors import SigningError
from .keys import CachedKeySigner, make_signer

__all__ = ["ROOT_COMMON_NAME", "DevPKI"]

log = logging.getLogger(__name__)

ROOT_COMMON_NAME = "dpabot DEV root (not trusted outside dpabot)"
_ORG = "dpabot development PKI - NOT trusted outside dpabot"
_ARCH = "dpabot-dev"
# Fixed validity windows: together with RSA (deterministic PKCS#1 v1.5 signatures)
# and certomancer's per-issuer serial counter they make every certificate a pure
# function of the key files and the URL prefix, so the root never changes and a
# worker process rebuilding the arch with the same port gets identical certificates.
_ROOT_VALIDITY = {"valid-from": "2025-01-01T00:00:00+0000", "valid-to": "2045-01-01T00:00:00+0000"}
_CA_VALIDITY = {"valid-from": "2025-01-01T00:00:00+0000", "valid-to": "2040-01-01T00:00:00+0000"}
_EE_VALIDITY = {"valid-from": "2025-01-01T00:00:00+0000", "valid-to": "2035-01-01T00:00:00+0000"}


def _crl_dp(repo: str) -> dict[str, Any]:
    return {
        "id": "crl_distribution_points",
        "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": [repo]}},
    }


def _key_labels(tenants: list[str]) -> dict[str, str]:
    """Key label → algorithm. CAs and the TSA use RSA so their signatures are deterministic."""
    labels = {"root": "rsa", "tsa": "rsa"}
    for slug in tenants:
        labels[f"{slug}-ca"] = "rsa"
        labels[f"{slug}-ocsp"] = "ec"
        labels[f"{slug}-processor"] = "ec"
        labels[f"{slug}-customer-ca"] = "rsa"
    return labels


def _build_config(tenants: list[str]) -> dict[str, Any]:
    """The certomancer configuration (same shape as shared/lab/certomancer-pki.yml)."""
    keys = {label: {"path": f"{label}.key.pem"} for label in _key_labels(tenants)}
    entities: dict[str, Any] = {
        # The root is first so that its serial (the first of its own counter) is stable.
        "root": {"common-name": ROOT_COMMON_NAME},
        "tsa": {"common-name": "dpabot DEV TSA (not trusted outside dpabot)"},
    }
    certs: dict[str, Any] = {
        # No profile parameters on the root: its certificate must carry no URL,
        # because URLs contain the (changing) port and the root must stay identical.
        "root": {
            "subject": "root",
            "issuer": "root",
            "validity": _ROOT_VALIDITY,
            "profiles": ["simple-ca"],
        },
        "tsa": {
            "issuer": "root",
            "validity": _CA_VALIDITY,
            "extensions": [
                {
                    "id": "key_usage",
                    "critical": True,
                    "smart-value": {"schema": "key-usage", "params": ["digital_signature"]},
                },
                {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                _crl_dp("root"),
            ],
        },
    }
    ocsp: dict[str, Any] = {}
    # CRLs are issued at request time (devpki_services.crl_at); the "schedule" is only
    # each CRL's lifetime, nextUpdate - thisUpdate.
    crl_repos: dict[str, Any] = {
        "root": {"for-issuer": "root", "signing-key": "root", "simulated-update-schedule": "P90D"}
    }
    for slug in tenants:
        ca, ocsp_lbl = f"{slug}-ca", f"{slug}-ocsp"
        proc, cust = f"{slug}-processor", f"{slug}-customer-ca"
        entities[ca] = {"common-name": f"dpabot DEV issuing CA for {slug}"}
        entities[ocsp_lbl] = {"common-name": f"dpabot DEV OCSP responder for {slug}"}
        entities[proc] = {
            "common-name": f"{slug} processor signing (dpabot DEV)",
            "organization-name": slug,
        }
        entities[cust] = {"common-name": f"dpabot DEV customer-signing CA for {slug}"}
        certs[ca] = {
            "issuer": "root",
            "validity": _CA_VALIDITY,
            "profiles": [
                {
                    "id": "simple-ca",
                    "params": {"max-path-len": 0, "crl-repo": ca, "ocsp-service": ca},
                }
            ],
            "extensions": [_crl_dp("root")],
        }
        certs[cust] = {
            "issuer": "root",
            "validity": _CA_VALIDITY,
            "profiles": [{"id": "simple-ca", "params": {"max-path-len": 0, "crl-repo": cust}}],
            "extensions": [_crl_dp("root")],
        }
        certs[ocsp_lbl] = {"issuer": ca, "validity": _CA_VALIDITY, "profiles": ["ocsp-responder"]}
        certs[proc] = {
            "issuer": ca,
            "validity": _EE_VALIDITY,
            "profiles": ["digsig-commitment"],
            # pdfsig 22.12 says "Unknown issue with Certificate" for signers without an EKU.
            "extensions": [{"id": "extended_key_usage", "value": ["email_protection"]}],
        }
        ocsp[ca] = {"for-issuer": ca, "responder-cert": ocsp_lbl, "signing-key": ocsp_lbl}
        # One-time customer certificates point to this responder (the CA signs its own
        # answers): pyHanko's past validation, which archives rely on years later, finds
        # a leaf's revocation data only through OCSP, never through its issuer's own CRL.
        ocsp[cust] = {"for-issuer": cust, "responder-cert": cust, "signing-key": cust}
        for repo in (ca, cust):
            crl_repos[repo] = {
                "for-issuer": repo,
                "signing-key": repo,
                "simulated-update-schedule": "P30D",
            }
    return {
        "keysets": {_ARCH: {"path-prefix": "keys", "keys": keys}},
        "pki-architectures": {
            _ARCH: {
                "keyset": _ARCH,
                "entity-defaults": {"country-name": "BE", "organization-name": _ORG},
                "entities": entities,
                "certs": certs,
                "services": {
                    "ocsp": ocsp,
                    "crl-repo": crl_repos,
                    "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
                },
            }
        },
    }


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock


class DevPKI:
    """A local PKI for development and tests; its root must never be trusted elsewhere.

    The certificates below the root embed ``http://127.0.0.1:<port>`` URLs, so the
    arch is built once the port is known (at load time). ``start()`` serves TSA,
    OCSP and CRLs on that port from a background thread with its own event loop.
    """

    def __init__(self, folder: Path, tenants: list[str], port: int | None = None) -> None:
        self.folder = Path(folder)
        self.tenants = list(dict.fromkeys(tenants))
        self._sock: socket.socket | None = None
        if port is None:
            self._sock = self._bind_preferred_port()
            port = int(self._sock.getsockname()[1])
        self.port = port
        self._arch = self._build_arch()
        self._root = self._arch.get_cert(CertLabel("root"))
        self._write_root()
        self._signers: dict[str, CachedKeySigner] = {}
        self._customer_cas: dict[str, CustomerCA] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- construction -------------------------------------------------------------

    @classmethod
    def load_or_create(cls, folder: Path, tenants: list[str], *, port: int | None = None) -> DevPKI:
        """Load the PKI under ``folder`` (creating keys on first use) for these tenant slugs.

        Without ``port`` a port is reserved now (the one used last time if it is free).
        With ``port`` nothing is bound: use this in a worker process to rebuild the
        very same certificates as the process that serves on that port.
        """
        folder = Path(folder)
        (folder / "keys").mkdir(parents=True, exist_ok=True)
        os.chmod(folder / "keys", 0o700)
        for label, algorithm in _key_labels(list(tenants)).items():
            ensure_key(folder / "keys" / f"{label}.key.pem", algorithm)
        return cls(folder, tenants, port)

    def _bind_preferred_port(self) -> socket.socket:
        # Reusing last run's port keeps the URLs, and thus every certificate, stable.
        port_file = self.folder / "port"
        with contextlib.suppress(OSError, ValueError):
            return _bind(int(port_file.read_text().strip()))
        sock = _bind(0)
        port_file.write_text(f"{sock.getsockname()[1]}\n")
        return sock

    def _build_arch(self) -> PKIArchitecture:
        install_caching_backend()
        cfg = CertomancerConfig(
            _build_config(self.tenants),
            key_search_dir=str(self.folder),
            external_url_prefix=f"http://127.0.0.1:{self.port}",
        )
        return cfg.get_pki_arch(ArchLabel(_ARCH))

    def _write_root(self) -> None:
        pem = asn1_pem.armor("CERTIFICATE", self._root.dump())
        path = self.root_cert_path
        if path.exists():
            old = path.read_bytes()
            if old == pem:
                return
            # Archived PDFs were validated against the old root: keep it beside the new one.
            old_cert = asn1_x509.Certificate.load(asn1_pem.unarmor(old)[2])
            backup = path.with_name(f"root-{old_cert.sha256.hex()[:16]}.pem")
            backup.write_bytes(old)
            log.warning("The dpabot DEV root changed; the previous one is kept as %s.", backup)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pem)
        tmp.replace(path)

    # -- accessors ----------------------------------------------------------------

    @property
    def arch(self) -> PKIArchitecture:
        return self._arch

    @property
    def root_cert(self) -> asn1_x509.Certificate:
        return self._root

    @property
    def root_cert_path(self) -> Path:
        return self.folder / "root.pem"

    @property
    def url_prefix(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def tsa_url(self) -> str:
        return self._arch.service_registry.get_tsa_info(ServiceLabel("tsa")).url

    def _check_tenant(self, slug: str) -> None:
        if slug not in self.tenants:
            raise SigningError(
                f"The development PKI has no tenant {slug!r}; it was loaded for {self.tenants}."
            )

    def _cert(self, label: str) -> asn1_x509.Certificate:
        return self._arch.get_cert(CertLabel(label))

    def processor_signer(self, slug: str) -> CachedKeySigner:
        """The tenant's processor signer (key parsed once, chain = issuing CA + root)."""
        self._check_tenant(slug)
        signer = self._signers.get(slug)
        if signer is None:
            key = load_key(self.folder / "keys" / f"{slug}-processor.key.pem")
            chain = [self._cert(f"{slug}-ca"), self._root]
            signer = make_signer(self._cert(f"{slug}-processor"), key, chain)
            self._signers[slug] = signer
        return signer

    def customer_ca(self, slug: str) -> CustomerCA:
        """The tenant's customer-signing CA, whose OCSP responder and CRL this PKI serves."""
        self._check_tenant(slug)
        ca = self._customer_cas.get(slug)
        if ca is None:
            label = f"{slug}-customer-ca"
            key = load_key(self.folder / "keys" / f"{label}.key.pem")
            assert isinstance(key, rsa.RSAPrivateKey)
            services = self._arch.service_registry
            ca = CustomerCA(
                x509.load_der_x509_certificate(self._cert(label).dump()),
                key,
                services.get_crl_repo_info(ServiceLabel(label)).latest_external_url,
                ocsp_url=services.get_ocsp_info(ServiceLabel(label)).url,
                chain=[x509.load_der_x509_certificate(self._root.dump())],
            )
            self._customer_cas[slug] = ca
        return ca

    # -- serving ------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> DevPKI:
        """Serve TSA, OCSP and CRLs on 127.0.0.1:<port> until ``stop()``."""
        if self._thread is not None:
            return self
        sock = self._sock or _bind(self.port)
        self._sock = None
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="dpabot-devpki", daemon=True)
        thread.start()
        try:
            self._runner = asyncio.run_coroutine_threadsafe(self._serve(sock), loop).result(10)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
            sock.close()
            raise
        self._loop, self._thread = loop, thread
        return self

    async def _serve(self, sock: socket.socket) -> web.AppRunner:
        customer_cas = {ServiceLabel(f"{slug}-customer-ca") for slug in self.tenants}
        app = DevPKIIllusionist(self._arch, unregistered_ocsp=customer_cas).build_app()
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        return runner

    def stop(self) -> None:
        """Stop serving; the PKI stays usable for signing and can be started again."""
        loop, thread, runner = self._loop, self._thread, self._runner
        if loop is None or thread is None:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
            return
        if runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        self._loop = self._thread = self._runner = None

    def __enter__(self) -> DevPKI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
