"""A send job over several SMTP connections: each mail once, 4xx retried, 5xx failed at once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.contracts import bulk, customer_import
from bot.core.settings import SecretRef, SmtpSettings, TenantSettings
from bot.outbox import send as send_job
from bot.outbox import send_messages
from bot.transports import TransportError
from handlers.reader.customer_file import read_customer_file
from storage.models import Message, Notification
from tests.fixtures.runtime import make_tenant, scoped


def smtp_tenant(smtpd, tmp_path: Path, monkeypatch, connections: int) -> TenantSettings:
    ca = tmp_path / "smtpd.pem"
    ca.write_bytes(smtpd.cert_pem)
    monkeypatch.setenv("TEST_SMTP_PW", smtpd.password)
    return make_tenant(
        transport="imap",  # mail out over SMTP; no listener runs in these tests
        smtp=SmtpSettings(
            host=smtpd.host,
            port=smtpd.port,
            username=smtpd.username,
            password=SecretRef(env="TEST_SMTP_PW"),
            ca_file=ca,
            connections=connections,
        ),
    )


async def queued(rt, slug: str, n: int) -> list[int]:
    """n customers invited, their mails stored and not sent (no worker runs): the row ids."""
    lines = "".join(f"Klant {i};klant{i}@klanten.example;Contact {i};;;nl\n" for i in range(n))
    parsed = read_customer_file(f"naam;email;contact;btw;functie;taal\n{lines}".encode())
    assert parsed.ok, parsed.problems
    await customer_import.import_customers(rt, slug, parsed.rows, "t")
    summary = await bulk.send_invitations(rt, slug, bulk.PENDING, "test")
    assert len(summary.invited) == n
    async with scoped(rt) as s:
        return list(
            await s.scalars(select(Message.id).where(Message.tenant_id == rt.tenant_ids[slug]))
        )


async def outcomes(rt, ids: list[int]) -> dict[str, str]:
    async with scoped(rt) as s:
        got = await s.execute(select(Message.to_addr, Message.outcome).where(Message.id.in_(ids)))
        return {str(to): str(outcome) for to, outcome in got.all()}


async def test_mails_spread_over_several_connections_each_once_and_a_4xx_passes_on_retry(
    runtime_factory, smtpd, tmp_path: Path, monkeypatch
):
    monkeypatch.setattr(send_job, "BACKOFF_S", (0.05, 0.1))
    tenant = smtp_tenant(smtpd, tmp_path, monkeypatch, connections=3)
    rt = await runtime_factory([tenant])
    ids = await queued(rt, tenant.slug, 24)
    smtpd.clear()
    smtpd.defer("klant5@klanten.example", 2)  # "451 try again later", twice

    await send_messages(rt, tenant.slug, ids)  # nothing left for a retry: it does not raise
    received = await smtpd.wait_for(24)
    got = Counter(r.rcpt_tos[0] for r in received)
    assert got == Counter(f"klant{i}@klanten.example" for i in range(24))  # each exactly once
    assert 1 < len({r.peer for r in received}) <= 3  # several connections, never more than 3
    assert set((await outcomes(rt, ids)).values()) == {"sent"}


async def test_a_lasting_4xx_waits_for_the_job_retry_and_a_5xx_fails_named_at_once(
    runtime_factory, smtpd, tmp_path: Path, monkeypatch
):
    monkeypatch.setattr(send_job, "BACKOFF_S", (0.05,))
    tenant = smtp_tenant(smtpd, tmp_path, monkeypatch, connections=2)
    rt = await runtime_factory([tenant])
    ids = await queued(rt, tenant.slug, 8)
    smtpd.clear()
    smtpd.defer("klant1@klanten.example", 100)
    smtpd.refuse("klant2@klanten.example")

    with pytest.raises(TransportError, match=r"klant1@klanten\.example.*451"):
        await send_messages(rt, tenant.slug, ids)
    state = await outcomes(rt, ids)
    assert state["klant2@klanten.example"] == "failed"
    assert state["klant1@klanten.example"] != "sent"
    assert {to for to, o in state.items() if o == "sent"} == {
        f"klant{i}@klanten.example" for i in (0, 3, 4, 5, 6, 7)
    }
    async with scoped(rt) as s:
        notes = (
            await s.scalars(
                select(Notification).where(Notification.tenant_id == rt.tenant_ids[tenant.slug])
            )
        ).all()
    # The refusal for good is named to staff now; the "try again later" is not (yet).
    assert len(notes) == 1 and "klant2@klanten.example" in notes[0].text
    assert "550" in notes[0].text

    # The job's retry once the relay takes mail again: klant1 goes, once.
    smtpd.clear()
    await send_messages(rt, tenant.slug, ids)
    received = await smtpd.wait_for(1)
    assert Counter(r.rcpt_tos[0] for r in received)["klant1@klanten.example"] == 1
    assert (await outcomes(rt, ids))["klant1@klanten.example"] == "sent"
