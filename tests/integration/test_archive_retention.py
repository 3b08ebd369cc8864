"""Retention: incomplete contracts lose their personal data after N days, signed ones after
N years; an erasure request removes what may go and says what is kept and why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import contracts
from bot.archive import retention
from bot.jobs import run_jobs_until_idle
from storage.models import ArchiveEntry, AuditEvent, Contract, ContractVersion, Customer, Message
from tests.fixtures.runtime import make_tenant, scoped
from tests.integration.test_archive_verify import archive_one


async def _setup(runtime_factory):
    tenant = make_tenant(transport="maildir")
    rt = await runtime_factory([tenant])
    slug = tenant.slug
    entry = await archive_one(rt, slug, "MOOI Schoonheidsverzorging", "signed@mooi.example")
    cid = await contracts.add_customer(
        rt, slug, name="UTOPIA", representative="Tineke Verellen", email="open@utopia.example"
    )
    open_contract = await contracts.invite(rt, slug, cid)
    await run_jobs_until_idle(rt)
    return rt, slug, entry, open_contract, cid


async def _actions(rt, slug) -> list[str]:
    async with scoped(rt) as s:
        rows = await s.scalars(
            select(AuditEvent.action).where(AuditEvent.tenant_id == rt.tenant_ids[slug])
        )
        return list(rows.all())


async def test_erasure_request_erases_incomplete_and_keeps_signed(runtime_factory):
    rt, slug, entry, open_contract, open_customer = await _setup(runtime_factory)
    tid = rt.tenant_ids[slug]
    async with scoped(rt) as s:
        done = await retention.erase_customer(
            s, tid, "Open@Utopia.example", actor="cli:test", blobs=rt.blobs
        )
    assert any("contract" in e for e in done["erased"]) and done["kept"] == []
    async with scoped(rt) as s:
        customer = await s.get(Customer, open_customer)
        assert customer is not None and customer.name == "[erased]"
        assert "utopia" not in customer.email
        msgs = (await s.scalars(select(Message).where(Message.contract_id == open_contract))).all()
        assert msgs and all(m.raw == b"" and m.to_addr is None for m in msgs)
        versions = (
            await s.scalars(
                select(ContractVersion).where(ContractVersion.contract_id == open_contract)
            )
        ).all()
        assert all(v.fields == {} for v in versions)
        assert (await s.get(Contract, open_contract)).erased_at is not None  # type: ignore[union-attr]
    async with scoped(rt) as s:
        kept = await retention.erase_customer(
            s, tid, "signed@mooi.example", actor="cli:test", blobs=rt.blobs
        )
    assert kept["erased"] == []
    assert any("retention period" in k["why"] for k in kept["kept"])
    assert Path(entry.path).is_file()
    assert (await _actions(rt, slug)).count("customer.erased") == 2


async def test_retention_job_erases_after_the_configured_periods(runtime_factory):
    rt, slug, entry, open_contract, _ = await _setup(runtime_factory)
    tid = rt.tenant_ids[slug]
    now = dt.datetime.now(dt.UTC)

    async def apply(at: dt.datetime) -> list[int]:
        async with scoped(rt) as s:
            return await retention.apply_tenant(
                s,
                tid,
                incomplete_days=365,
                signed_years=10,
                blobs=rt.blobs,
                archive=rt.archive,
                now=at,
            )

    assert await apply(now + dt.timedelta(days=300)) == []
    assert await apply(now + dt.timedelta(days=366)) == [open_contract]
    assert Path(entry.path).is_file()  # signed: kept for ten years
    assert await apply(now + dt.timedelta(days=366 * 10)) == [entry.contract_id]
    assert not Path(entry.path).exists() and not Path(entry.manifest_path).exists()
    # The certificate of completion names the parties: it goes too.
    assert entry.certificate_path and not Path(entry.certificate_path).exists()
    async with scoped(rt) as s:
        erased = await s.get(ArchiveEntry, entry.id, populate_existing=True)
        assert erased is not None and erased.erased_at is not None
        assert erased.customer_email == "[erased]"
        customer = await s.scalar(
            select(Customer).where(
                Customer.tenant_id == tid, Customer.name == "MOOI Schoonheidsverzorging"
            )
        )
        assert customer is None
    assert (await _actions(rt, slug)).count("retention.erased") == 2


async def test_files_go_only_when_the_erasure_commits(runtime_factory):
    rt, slug, entry, _, _ = await _setup(runtime_factory)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=366 * 10)
    with pytest.raises(RuntimeError, match="commit fails"):
        async with scoped(rt) as s:
            await retention.apply_tenant(
                s,
                rt.tenant_ids[slug],
                incomplete_days=365,
                signed_years=10,
                blobs=rt.blobs,
                archive=rt.archive,
                now=later,
            )
            raise RuntimeError("the commit fails")
    # Rolled back: the rows are not erased, so neither are the files they name.
    assert Path(entry.path).is_file() and Path(entry.manifest_path).is_file()
    async with scoped(rt) as s:
        kept = await s.get(ArchiveEntry, entry.id, populate_existing=True)
        assert kept is not None and kept.erased_at is None
