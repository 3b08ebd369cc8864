"""Processor keys on a PKCS#11 token (SoftHSM): RSA and EC P-256 through B-LTA, settings."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import typst

from bot.core.settings import SecretRef, SigningSettings, load_tenant
from bot.core.tenant_signing import for_tenant
from bot.errors import ConfigError
from signing import (
    FIELD_CUSTOMER,
    FIELD_PROCESSOR,
    DevPKI,
    SigningError,
    add_signature_fields,
    certify_processor,
    make_lta,
    sign_customer,
    validate_pdf,
)
from tests.fixtures.pki import TENANT
from tests.fixtures.runtime import make_tenant
from tests.fixtures.softhsm import SoftHSMToken

_DOC = '#set page(paper: "a4")\n= Verwerkersovereenkomst\nPKCS#11.\n'


@pytest.fixture(scope="module")
def unsigned(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    src = tmp_path_factory.mktemp("doc") / "dpa.typ"
    src.write_text(_DOC)
    return add_signature_fields(typst.compile(str(src), format="pdf", pdf_standards=["a-2b"]))


@pytest.mark.parametrize(("key", "algorithm"), [("rsa", "rsa"), ("ec", "ec")])
async def test_token_key_signs_to_lta(
    softhsm_token: SoftHSMToken,
    dev_pki: DevPKI,
    unsigned: bytes,
    key: str,
    algorithm: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from signing.pkcs11 import load_pkcs11_signer

    key_label = softhsm_token.rsa_key if key == "rsa" else softhsm_token.ec_key
    caplog.set_level(logging.DEBUG)
    signer = load_pkcs11_signer(
        softhsm_token.lib, softhsm_token.token_label, key_label, softhsm_token.pin
    )
    cert = signer.signing_cert
    assert cert is not None and cert.public_key.algorithm == algorithm
    # Cached per (module, token, key): same object, no second login.
    assert (
        load_pkcs11_signer(
            softhsm_token.lib, softhsm_token.token_label, key_label, softhsm_token.pin
        )
        is signer
    )
    certified = await certify_processor(
        unsigned, signer, dev_pki.tsa_url, reason="Verwerkersovereenkomst PKCS#11"
    )
    customer = dev_pki.customer_ca(TENANT).issue_one_time(
        "Karolien Piskor", "MOOI Schoonheidsverzorging", "karolien@mooi.example"
    )
    signed = await sign_customer(certified, customer, dev_pki.tsa_url, reason="Akkoord")
    lta = await make_lta(signed, [dev_pki.root_cert], dev_pki.tsa_url)
    report = await validate_pdf(lta, [dev_pki.root_cert])
    assert report.ok, report.to_dict()
    by_field = {s.field: s for s in report.signatures}
    assert set(by_field) == {FIELD_PROCESSOR, FIELD_CUSTOMER}
    processor = by_field[FIELD_PROCESSOR]
    assert processor.certification and processor.ades_status == "PASSED"
    assert "SoftHSM" in (processor.signer_cn or "")
    assert processor.cert_sha256 == cert.sha256.hex()
    assert len(report.document_timestamps) == 1
    assert softhsm_token.pin not in caplog.text


def test_wrong_pin_names_no_pin(softhsm_token: SoftHSMToken) -> None:
    from signing.pkcs11 import clear_pkcs11_cache, load_pkcs11_signer

    clear_pkcs11_cache()  # else the open session is reused and the PIN not checked again
    with pytest.raises(SigningError, match="could not be opened") as err:
        load_pkcs11_signer(softhsm_token.lib, softhsm_token.token_label, "x", "99999999")
    assert "99999999" not in str(err.value)
    with pytest.raises(SigningError, match="could not be opened"):
        load_pkcs11_signer(softhsm_token.lib, "no-such-token", "x", softhsm_token.pin)
    with pytest.raises(SigningError, match="0 private keys"):
        load_pkcs11_signer(
            softhsm_token.lib, softhsm_token.token_label, "no-such-key", softhsm_token.pin
        )


def test_tenant_in_pkcs11_mode(
    softhsm_token: SoftHSMToken, dev_pki: DevPKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509 import load_der_x509_certificate

    ca = dev_pki.customer_ca(TENANT)
    key = serialization.load_pem_private_key(
        (dev_pki.folder / "keys" / f"{TENANT}-customer-ca.key.pem").read_bytes(), None
    )
    (tmp_path / "ca.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"ca",
            key,  # type: ignore[arg-type]
            ca.ca_cert,
            [load_der_x509_certificate(dev_pki.root_cert.dump())],
            serialization.NoEncryption(),
        )
    )
    monkeypatch.setenv("TEST_HSM_PIN", softhsm_token.pin)
    tenant_file = tmp_path / "tenant.toml"
    tenant_file.write_text(
        f"""
slug = "hsm"
name = "HSM BV"
template = "dpa-nl"
representative = "Jan"
[mail]
address = "dpa@hsm.example"
[signing]
mode = "pkcs11"
pkcs11_lib = "{softhsm_token.lib}"
pkcs11_token = "{softhsm_token.token_label}"
pkcs11_key = "{softhsm_token.ec_key}"
pkcs11_pin = {{ env = "TEST_HSM_PIN" }}
customer_ca_pkcs12 = "ca.p12"
customer_ca_crl_url = "{ca.crl_url}"
tsa_urls = ["http://127.0.0.1:9/tsa", "{dev_pki.tsa_url}"]
trust_roots = ["{dev_pki.root_cert_path}"]
"""
    )
    tenant = load_tenant(tenant_file)
    assert tenant.signing.tsa_urls[1] == dev_pki.tsa_url
    signing = for_tenant(tenant, None)
    assert signing.tsa_urls == ["http://127.0.0.1:9/tsa", dev_pki.tsa_url]
    assert "SoftHSM EC" in signing.processor_signer.signing_cert.subject.human_friendly

    incomplete = make_tenant(transport="maildir")
    incomplete.signing = SigningSettings(
        mode="pkcs11",
        pkcs11_lib=softhsm_token.lib,
        pkcs11_pin=SecretRef(env="TEST_HSM_PIN"),
        customer_ca_pkcs12=tmp_path / "ca.p12",
        customer_ca_crl_url=ca.crl_url,
        tsa_url=dev_pki.tsa_url,
        trust_roots=[dev_pki.root_cert_path],
    )
    with pytest.raises(ConfigError, match="pkcs11_token"):
        for_tenant(incomplete, None)
    # Both orders run in the service (tests/integration/test_own_signature.py): kept as set.
    tenant.signing.order = "customer_first"
    assert for_tenant(tenant, None).order == "customer_first"


async def test_one_token_session_signs_from_parallel_threads(
    softhsm_token: SoftHSMToken, dev_pki: DevPKI, unsigned: bytes
) -> None:
    """The bot signs in worker threads (each its own loop) over the one cached session."""
    import asyncio

    from bot.jobs import cpu
    from signing.pkcs11 import load_pkcs11_signer

    signer = load_pkcs11_signer(
        softhsm_token.lib, softhsm_token.token_label, softhsm_token.rsa_key, softhsm_token.pin
    )

    def job(i: int):  # type: ignore[no-untyped-def]
        return lambda: certify_processor(unsigned, signer, dev_pki.tsa_url, reason=f"parallel {i}")

    results = await asyncio.gather(*(cpu.in_thread_loop(job(i)) for i in range(4)))
    for pdf in results:
        lta = await make_lta(pdf, [dev_pki.root_cert], dev_pki.tsa_url)
        report = await validate_pdf(lta, [dev_pki.root_cert])
        assert report.ok, report.to_dict()
