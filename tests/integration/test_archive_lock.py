"""Archiving asks the TSA without holding the contract's row lock, and a TSA outage leaves
nothing half-archived: the retried job archives the contract once, with its timestamp."""

from __future__ import annotations

import mailbox

import psycopg
from sqlalchemy import select

from bot import contracts
from bot.app.demo import DEMO_ANSWERS, customer_reply
from bot.archive import store as archive
from bot.archive.store import verify_entry
from bot.jobs import run_jobs_until_idle
from bot.mail.listener import poll_once
from storage.models import ArchiveEntry, Contract, Signature
from tests.fixtures.runtime import make_tenant, scoped
from tests.integration.test_bad_input import _outbox


async def _accept_by_mail(rt, slug: str, email: str) -> int:
    """Invite, answer, accept the final version by mail; returns the contract id."""
    cid = await contracts.add_customer(
        rt, slug, name="MOOI Schoonheidsverzorging", representative="Karolien Piskor", email=email
    )
    contract_id = await contracts.invite(rt, slug, cid)
    await run_jobs_until_idle(rt)
    inbox = mailbox.Maildir(rt.maildir(slug, "inbox"), create=True)
    for kind, text in (("invitation", DEMO_ANSWERS), ("final", "Ik ga akkoord.")):
        (sent,) = [m for m in _outbox(rt, slug) if m["X-Dpabot-Kind"] == kind]
        inbox.add(customer_reply(sent, text, email))
        await poll_once(rt, slug)
        await run_jobs_until_idle(rt)
    return contract_id


async def test_tsa_is_asked_unlocked_and_an_outage_archives_nothing(
    runtime_factory, database_url, monkeypatch
):
    tenant = make_tenant(transport="maildir")
    rt = await runtime_factory([tenant])
    real = archive.timestamp_digest
    locked: list[bool] = []

    async def stamp(urls, digest: str) -> bytes:
        # From another connection, as another worker would: NOWAIT fails at once on a row
        # that the archiving transaction still holds.
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            try:
                await conn.execute("SELECT id FROM contracts FOR UPDATE NOWAIT")
                locked.append(False)
            except psycopg.errors.LockNotAvailable:
                locked.append(True)
        if len(locked) == 1:
            raise RuntimeError("every TSA is down (test)")
        return await real(urls, digest)

    monkeypatch.setattr(archive, "timestamp_digest", stamp)
    contract_id = await _accept_by_mail(rt, tenant.slug, "k@mooi.example")
    assert locked == [False]
    async with scoped(rt) as s:
        contract = await s.get(Contract, contract_id)
        assert contract is not None and contract.state == "customer_signed"
        assert (
            await s.scalar(select(ArchiveEntry).where(ArchiveEntry.contract_id == contract_id))
            is None
        )
        customer_sigs = await s.scalars(
            select(Signature).where(
                Signature.contract_id == contract_id, Signature.party == "customer"
            )
        )
        assert customer_sigs.all() == []
    # The TSA is back: the job's retry (made due now rather than after its back-off) archives.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")
    await run_jobs_until_idle(rt)
    assert locked == [False, False]
    async with scoped(rt) as s:
        entries = (
            await s.scalars(select(ArchiveEntry).where(ArchiveEntry.contract_id == contract_id))
        ).all()
        contract = await s.get(Contract, contract_id, populate_existing=True)
    assert len(entries) == 1 and entries[0].timestamp_path
    assert contract is not None and contract.state == "completed"
    check = await verify_entry(entries[0], rt.signing[tenant.slug].trust_roots, rt.archive)
    assert check.ok, check.problems
