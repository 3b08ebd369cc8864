"""Storage guarantees: jobs live and die with the business transaction; tenants stay apart;
the audit log is append-only and its chain shows tampering."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import func, select, text

from bot import contracts
from bot.jobs.queue import defer
from storage import audit
from storage.errors import NotFound
from storage.models import Message
from storage.repositories import TenantRepo
from tests.fixtures.runtime import make_tenant, scoped


async def _jobs(rt) -> int:
    async with scoped(rt) as s:
        return await s.scalar(text("SELECT count(*) FROM procrastinate_jobs"))


async def test_a_rolled_back_transaction_leaves_no_job(runtime_factory):
    rt = await runtime_factory([make_tenant()])
    before = await _jobs(rt)
    with pytest.raises(RuntimeError):
        async with scoped(rt) as s:
            await defer(s, "send_message", tenant="x", message_row_id=1)
            raise RuntimeError("business step failed")
    assert await _jobs(rt) == before
    async with scoped(rt) as s:
        await defer(s, "send_message", tenant="x", message_row_id=1)
    assert await _jobs(rt) == before + 1


async def test_one_tenant_cannot_reach_another_tenants_rows(runtime_factory):
    a, b = make_tenant(), make_tenant()
    rt = await runtime_factory([a, b])
    cid = await contracts.add_customer(
        rt, a.slug, name="Klant A", email="a@klant.example", representative="An"
    )
    contract_id = await contracts.invite(rt, a.slug, cid)
    async with scoped(rt) as s:
        other = TenantRepo(s, rt.tenant_ids[b.slug])
        with pytest.raises(NotFound):
            await other.customer(cid)
        with pytest.raises(NotFound):
            await other.contract(contract_id)
        own = TenantRepo(s, rt.tenant_ids[a.slug])
        token = (await own.contract(contract_id)).reply_token
        assert await other.contract_by_token(token) is None
        assert await other.customer_by_email("a@klant.example") is None
        count = await s.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.tenant_id == rt.tenant_ids[b.slug])
        )
        assert count == 0


async def test_audit_log_is_append_only_and_chained(runtime_factory):
    t = make_tenant()
    rt = await runtime_factory([t])
    tid = rt.tenant_ids[t.slug]
    async with scoped(rt) as s:
        await audit.record(s, tid, "cli:test", "archive.search", "MOOI")
        await audit.record(s, tid, "cli:test", "archive.get", "x")
    async with scoped(rt) as s:
        assert await audit.verify_chain(s, tid) == (True, 2)
    # The service's role may not change it at all; the owner is stopped by the trigger.
    with pytest.raises(Exception, match="permission denied"):
        async with scoped(rt) as s:
            await s.execute(
                text("UPDATE audit_events SET actor = 'someone else' WHERE tenant_id = :t"),
                {"t": tid},
            )
    with (
        pytest.raises(psycopg.errors.RaiseException, match="append-only"),
        psycopg.connect(rt.db.owner_url) as conn,
    ):
        conn.execute("UPDATE audit_events SET actor = 'someone else' WHERE tenant_id = %s", (tid,))


async def test_two_tenants_identical_first_events_do_not_collide(runtime_factory):
    a, b = make_tenant(), make_tenant()
    rt = await runtime_factory([a, b])
    async with scoped(rt) as s:
        for t in (a, b):
            await audit.record(s, rt.tenant_ids[t.slug], "cli:test", "archive.search", "MOOI")
    async with scoped(rt) as s:
        for t in (a, b):
            ok, count = await audit.verify_chain(s, rt.tenant_ids[t.slug])
            assert ok and count == 1
