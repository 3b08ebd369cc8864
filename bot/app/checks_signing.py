"""`dpabot tenant check`, signing part: trust roots, the signing key, the customer CA, each TSA.

Each check returns a Check: one line, ok or what is wrong in a sentence to act on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from bot.app.check_result import Check
from bot.core.tenant_settings import TenantSettings
from bot.errors import DpabotError


def trust_roots(tenant: TenantSettings) -> tuple[Check, list[Any]]:
    """The roots every signature of this tenant must chain to, loaded."""
    from bot.core.tenant_signing import load_cert

    s = tenant.signing
    if not s.trust_roots:
        return Check.failed("trust roots", "'signing.trust_roots' lists no root PEM."), []
    roots = []
    for path in s.trust_roots:
        if not Path(path).exists():
            return Check.failed("trust roots", f"The trust root {path} does not exist."), []
        try:
            roots.append(load_cert(path))
        except (DpabotError, ValueError) as exc:
            return Check.failed("trust roots", _sentence(exc, f"{path} is not a certificate")), []
    names = ", ".join(r.subject.human_friendly for r in roots)
    return Check.passed("trust roots", names), roots


async def signing_key(tenant: TenantSettings, roots: list[Any]) -> Check:
    """The processor's key opens (PKCS#12 file or PKCS#11 token) and its certificate is in date
    and chains to the trust roots."""
    s = tenant.signing
    try:
        if s.mode == "pkcs11":
            from bot.core.tenant_signing import processor_signer

            cert = (await asyncio.to_thread(processor_signer, tenant)).signing_cert
            chain: list[Any] = []
        else:
            from signing.keyfiles import open_pkcs12

            if s.pkcs12_file is None:
                return Check.failed("signing key", "'signing.pkcs12_file' is not set.")
            passphrase = (
                s.passphrase.resolve("PKCS#12 passphrase").encode() if s.passphrase else None
            )
            _, key_cert, extra = await asyncio.to_thread(
                open_pkcs12, s.pkcs12_file, passphrase, "signing key"
            )
            cert, chain = _asn1(key_cert), [_asn1(c) for c in extra]
    except DpabotError as exc:
        return Check.failed("signing key", str(exc))
    return await _certificate("signing key", cert, chain, roots)


async def customer_ca(tenant: TenantSettings, roots: list[Any], limit: float = 10.0) -> Check:
    """The customer CA opens, is a CA, is in date and chains to the trust roots; its CRL URL is
    set and serves a current CRL signed by it (one-time certificates name that URL, and a
    customer's signature reaches B-LTA only with the CRL fetched from it)."""
    from cryptography import x509

    from signing.keyfiles import open_pkcs12

    s = tenant.signing
    missing = [
        k for k in ("customer_ca_pkcs12", "customer_ca_crl_url") if getattr(s, k) in (None, "")
    ]
    if missing:
        return Check.failed(
            "customer CA",
            " and ".join(f"'signing.{k}'" for k in missing)
            + f" {'is' if len(missing) == 1 else 'are'} not set; customers' acceptances "
            "cannot be signed without the CA (dpabot tenant keygen makes one).",
        )
    assert s.customer_ca_pkcs12 is not None
    try:
        passphrase = (
            s.customer_ca_passphrase.resolve("customer CA passphrase").encode()
            if s.customer_ca_passphrase
            else None
        )
        _, ca_cert, extra = await asyncio.to_thread(
            open_pkcs12, s.customer_ca_pkcs12, passphrase, "customer CA"
        )
    except DpabotError as exc:
        return Check.failed("customer CA", str(exc))
    try:
        is_ca = ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        return Check.failed(
            "customer CA",
            f"The certificate in {s.customer_ca_pkcs12} is not a CA certificate "
            "(basicConstraints CA:TRUE), so it cannot issue customers' certificates.",
        )
    chained = await _certificate("customer CA", _asn1(ca_cert), [_asn1(c) for c in extra], roots)
    if not chained.ok:
        return chained
    assert s.customer_ca_crl_url is not None
    problem = await _crl_problem(s.customer_ca_crl_url, ca_cert, limit)
    if problem:
        return Check.failed("customer CA", problem)
    return Check.passed(
        "customer CA", f"{chained.detail}; its CRL is served at {s.customer_ca_crl_url}"
    )


async def _crl_problem(url: str, ca_cert: Any, limit: float) -> str | None:
    """What is wrong with the CRL at ``url`` for this CA, in a sentence; None when it is served,
    signed by the CA and current."""
    import aiohttp
    from cryptography import x509

    fix = (
        "customers' signatures cannot be archived (B-LTA) until it is; publish the .crl that "
        "dpabot tenant keygen wrote there"
    )
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=limit)) as answer:
                if answer.status != 200:
                    return f"The CRL URL {url} answered HTTP {answer.status}; {fix}."
                body = await answer.read()
    except TimeoutError:
        return f"The CRL URL {url} did not answer within {limit:g} s; {fix}."
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        return f"The CRL URL {url} cannot be reached ({type(exc).__name__}); {fix}."
    try:
        crl = (
            x509.load_pem_x509_crl(body)
            if body.lstrip().startswith(b"-----")
            else x509.load_der_x509_crl(body)
        )
    except ValueError:
        return f"The CRL URL {url} does not serve a CRL; {fix}."
    if crl.issuer != ca_cert.subject or not crl.is_signature_valid(ca_cert.public_key()):
        return f"The CRL at {url} is not signed by this customer CA; {fix}."
    next_update = crl.next_update_utc
    if next_update is not None and next_update < dt.datetime.now(dt.UTC):
        return f"The CRL at {url} expired on {next_update:%Y-%m-%d}; publish a current one."
    return None


async def timestamp_authority(url: str, limit: float, roots: list[Any]) -> Check:
    """A real RFC 3161 request: the TSA answers with a token for a test digest, signed by a
    certificate that chains to the trust roots (else every contract would stop at its long-term
    validation step, B-LTA, with the TSA's certificate unknown)."""
    import aiohttp
    from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError

    name = f"TSA {url}"
    try:
        async with aiohttp.ClientSession() as session:
            stamper = HTTPTimeStamper(url, timeout=int(max(limit, 1)), session=session)
            digest = hashlib.sha256(b"dpabot tenant check").digest()
            token = await asyncio.wait_for(stamper.async_timestamp(digest, "sha256"), limit)
    except TimestampRequestError as exc:
        cause = exc.__cause__
        if isinstance(cause, aiohttp.ClientConnectionError | OSError):
            return Check.failed(name, f"The TSA cannot be reached ({type(cause).__name__}).")
        if isinstance(cause, TimeoutError):
            return Check.failed(name, f"The TSA did not answer within {limit:g} s.")
        return Check.failed(name, f"The TSA answered badly ({_sentence(exc, 'no token')}).")
    except TimeoutError:
        return Check.failed(name, f"The TSA did not answer within {limit:g} s.")
    except (aiohttp.ClientError, OSError) as exc:
        return Check.failed(name, f"The TSA cannot be reached ({type(exc).__name__}).")
    signed_data = token["content"]
    gen_time = signed_data["encap_content_info"]["content"].parsed["gen_time"].native
    signer, others = _token_signer(signed_data)
    if signer is None:
        return Check.failed(name, "The TSA's token carries no certificate of its signer.")
    chained = await _certificate(name, signer, others, roots)
    if not chained.ok:
        return chained
    return Check.passed(
        name,
        f"gave a timestamp ({gen_time:%Y-%m-%d %H:%M:%S} UTC), signed by "
        f"{signer.subject.human_friendly}, which chains to the trust roots",
    )


def _token_signer(signed_data: Any) -> tuple[Any, list[Any]]:
    """The certificate that signed a timestamp token (named by its issuer and serial number in
    the signer info), and the token's other certificates (its chain)."""
    certs = [c.chosen for c in signed_data["certificates"] or [] if c.name == "certificate"]
    sid = signed_data["signer_infos"][0]["sid"]
    for cert in certs:
        if sid.name == "issuer_and_serial_number":
            ids = sid.chosen
            if cert.serial_number == ids["serial_number"].native and cert.issuer == ids["issuer"]:
                return cert, [c for c in certs if c is not cert]
        elif cert.key_identifier == sid.chosen.native:
            return cert, [c for c in certs if c is not cert]
    return None, certs


async def _certificate(what: str, cert: Any, chain: list[Any], roots: list[Any]) -> Check:
    """In date, and a path to one of the roots."""
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

    subject = cert.subject.human_friendly
    now = dt.datetime.now(dt.UTC)
    start, end = cert["tbs_certificate"]["validity"]["not_before"].native, cert.not_valid_after
    if now < start:
        return Check.failed(
            what, f"The certificate of {subject} is valid only from {start:%Y-%m-%d}."
        )
    if now > end:
        return Check.failed(what, f"The certificate of {subject} expired on {end:%Y-%m-%d}.")
    if not roots:
        return Check.failed(what, "It cannot be checked without trust roots.")
    vc = ValidationContext(
        trust_roots=roots, other_certs=chain, allow_fetching=False, revocation_mode="soft-fail"
    )
    try:
        await CertificateValidator(
            cert, intermediate_certs=chain, validation_context=vc
        ).async_validate_path()
    except (PathBuildingError, PathValidationError, ValueError) as exc:
        del exc  # certvalidator's wording names internals; ours names the fix
        return Check.failed(
            what,
            f"The certificate of {subject} does not chain to any of 'signing.trust_roots'; "
            "add its root (or its own PEM when it is self-signed) there.",
        )
    return Check.passed(what, f"{subject}, valid until {end:%Y-%m-%d}")


def _asn1(cert: Any) -> Any:
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization

    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _sentence(exc: BaseException, fallback: str) -> str:
    text = str(exc).strip().rstrip(".")
    return text or fallback
