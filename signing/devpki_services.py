"""The dev PKI's HTTP services: TSA, OCSP and CRLs, each answer made at request time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from aiohttp import web
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from certomancer.integrations.aiohttp_illusionist import AsyncIllusionist
from certomancer.registry import PKIArchitecture, ServiceLabel
from certomancer.services import CRLBuilder, RevocationInfoInterface, choose_signed_digest

__all__ = ["DevPKIIllusionist", "crl_at"]

_Handler = Callable[[web.Request], Awaitable[web.Response]]


def crl_at(
    arch: PKIArchitecture, label: ServiceLabel, now: dt.datetime
) -> asn1_crl.CertificateList:
    """A CRL of repository ``label`` issued at ``now`` (thisUpdate = now).

    Certomancer's own CRLs sit on a fixed schedule (thisUpdate at 00:00 of the day
    before, or weeks back for the root): a CRL older than a signature cannot show the
    signer's CA was unrevoked when it signed. Issuing at request time, as a CA answering
    from its database would, gives archives CRLs dated after their signatures.
    nextUpdate keeps the configured update interval.
    """
    info = arch.service_registry.get_crl_repo_info(label)
    key = arch.key_set.get_asym_key(info.signing_key)
    issuer_cert = arch.get_cert(info.issuer_cert or info.resolve_issuer_cert(arch))
    builder = CRLBuilder(
        issuer_name=arch.entities[info.crl_issuer or info.for_issuer],
        issuer_key=key.private,
        signature_algo=choose_signed_digest(
            info.digest_algo, key.public, signature_algo=info.signature_algo
        ),
        authority_key_identifier=issuer_cert.key_identifier_value,
        extra_crl_extensions=[
            ext.to_asn1(arch, asn1_crl.TBSCertListExtension) for ext in info.crl_extensions
        ],
    )
    # Seconds since the issuer's validity start: increasing, as RFC 5280 requires, and two
    # requests in the same second get the same (deterministic RSA) CRL.
    number = int((now - issuer_cert.not_valid_before).total_seconds())
    return builder.build_crl(
        crl_number=number,
        this_update=now,
        next_update=now + info.simulated_update_schedule,
        revoked_certs=list(arch.get_revoked_certs_at_time(at_time=now, crl_info=info)),
        distpoint=info.format_idp(arch.entities),
    )


class _NeverRevoked(RevocationInfoInterface):
    """OCSP status for certificates a CA issued outside certomancer (one-time customer certs).

    That CA keeps no register of its random serials and never revokes (its CRL is
    always empty), so "good" for any serial it issued says what its CRL says.
    Certomancer's responder checks the CertID's issuer hashes before asking this.
    """

    def __init__(self, issuer_cert: asn1_x509.Certificate) -> None:
        self._issuer_cert = issuer_cert

    def get_issuer_cert(self) -> asn1_x509.Certificate:
        return self._issuer_cert

    def check_revocation_status(
        self, cid: asn1_ocsp.CertId, at_time: dt.datetime
    ) -> tuple[asn1_ocsp.CertStatus, list[asn1_ocsp.SingleResponseExtension]]:
        return asn1_ocsp.CertStatus("good"), []


class DevPKIIllusionist(AsyncIllusionist):
    """Certomancer's HTTP services with whole-second times, request-time CRLs and
    OCSP for CAs whose certificates certomancer does not know.

    NSS (pdfsig) rejects certomancer's fractional-second OCSP times as malformed.
    The handler factories overridden here are certomancer's (0.16) own hooks.
    """

    def __init__(self, arch: PKIArchitecture, unregistered_ocsp: set[ServiceLabel]) -> None:
        super().__init__(arch)
        self._unregistered_ocsp = unregistered_ocsp

    @property
    def at_time(self) -> dt.datetime:
        return (self.fixed_time or dt.datetime.now(dt.UTC)).replace(microsecond=0)

    def _make_crl_handler(self, label: ServiceLabel) -> _Handler:
        async def handle(request: web.Request) -> web.Response:
            crl = crl_at(self.pki_arch, label, self.at_time)
            return web.Response(body=crl.dump(), content_type="application/pkix-crl")

        return handle

    def _make_ocsp_handler(self, label: ServiceLabel) -> _Handler:
        if label not in self._unregistered_ocsp:
            return super()._make_ocsp_handler(label)

        async def handle(request: web.Request) -> web.Response:
            req = asn1_ocsp.OCSPRequest.load(await request.read())
            responder = self.pki_arch.service_registry.summon_responder(label, self.at_time)
            responder.revinfo_interface = _NeverRevoked(
                responder.revinfo_interface.get_issuer_cert()
            )
            return web.Response(
                body=responder.build_ocsp_response(req).dump(),
                content_type="application/ocsp-response",
            )

        return handle
