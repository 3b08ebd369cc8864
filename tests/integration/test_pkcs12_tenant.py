"""A production-style tenant: signing key and customer CA from PKCS#12 files (passphrases by
environment variable), an external TSA URL and trust roots from PEM files."""

from __future__ import annotations

import mailbox

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy import select

from bot import contracts
from bot.app.demo import DEMO_ANSWERS, customer_reply
from bot.core.settings import SecretRef, SigningSettings
from bot.jobs import run_jobs_until_idle
from bot.mail.listener import poll_once
from signing import validate_pdf
from storage.models import ArchiveEntry, Contract
from tests.fixtures.runtime import make_tenant, scoped
from tests.integration.test_bad_input import _outbox


def _p12(path, key_pem, cert, chain, passphrase: bytes) -> None:
    key = serialization.load_pem_private_key(key_pem.read_bytes(), None)
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"dpabot",
            key,
            cert,
            chain,  # type: ignore[arg-type]
            serialization.BestAvailableEncryption(passphrase),
        )
    )


async def test_pkcs12_tenant_signs_and_archives(dev_pki, runtime_factory, tmp_path, monkeypatch):
    keys = dev_pki.folder / "keys"
    signer = dev_pki.processor_signer("ibeauty")
    as_x509 = lambda c: x509.load_der_x509_certificate(c.dump())  # noqa: E731
    chain = [as_x509(c) for c in signer.cert_registry if c != signer.signing_cert]
    _p12(
        tmp_path / "signer.p12",
        keys / "ibeauty-processor.key.pem",
        as_x509(signer.signing_cert),
        chain,
        b"s3cret",
    )
    ca = dev_pki.customer_ca("ibeauty")
    _p12(
        tmp_path / "ca.p12",
        keys / "ibeauty-customer-ca.key.pem",
        ca.ca_cert,
        [as_x509(dev_pki.root_cert)],
        b"ca-s3cret",
    )
    monkeypatch.setenv("TEST_P12_PASS", "s3cret")
    monkeypatch.setenv("TEST_CA_PASS", "ca-s3cret")
    tenant = make_tenant(transport="maildir")
    tenant.signing = SigningSettings(
        mode="pkcs12",
        pkcs12_file=tmp_path / "signer.p12",
        passphrase=SecretRef(env="TEST_P12_PASS"),
        customer_ca_pkcs12=tmp_path / "ca.p12",
        customer_ca_passphrase=SecretRef(env="TEST_CA_PASS"),
        customer_ca_crl_url=ca.crl_url,
        tsa_url=dev_pki.tsa_url,
        trust_roots=[dev_pki.root_cert_path],
    )
    rt = await runtime_factory([tenant])
    assert rt.pki is None  # nothing of the development PKI is started for this tenant
    slug = tenant.slug
    cid = await contracts.add_customer(
        rt, slug, name="UTOPIA", representative="Tineke Verellen", email="tineke@utopia.example"
    )
    contract_id = await contracts.invite(rt, slug, cid)
    await run_jobs_until_idle(rt)
    inbox = mailbox.Maildir(rt.maildir(slug, "inbox"), create=True)
    (invitation,) = _outbox(rt, slug)
    inbox.add(customer_reply(invitation, DEMO_ANSWERS, "tineke@utopia.example"))
    await poll_once(rt, slug)
    await run_jobs_until_idle(rt)
    (final,) = [m for m in _outbox(rt, slug) if m["X-Dpabot-Kind"] == "final"]
    inbox.add(customer_reply(final, "Ik ga akkoord.", "tineke@utopia.example"))
    await poll_once(rt, slug)
    await run_jobs_until_idle(rt)
    async with scoped(rt) as s:
        assert (await s.get(Contract, contract_id)).state == "completed"
        entry = await s.scalar(select(ArchiveEntry).where(ArchiveEntry.contract_id == contract_id))
    with open(entry.path, "rb") as fh:
        report = await validate_pdf(fh.read(), [dev_pki.root_cert])
    assert report.ok, report.to_dict()
    assert {s.signer_cn for s in report.signatures} >= {"Tineke Verellen"}
