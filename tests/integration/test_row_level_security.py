"""Row-level security, the second wall: a query that forgets its tenant filter sees nothing of
another tenant, and the service runs as a role that cannot step around it."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy.exc
from sqlalchemy import func, select, text

from bot import contracts
from bot.errors import ConfigError
from storage.errors import NotFound
from storage.models import Contract, Customer, Message
from storage.repositories import BotTenants, TenantRepo
from storage.scope import APP_ROLE, ScopeError, bind
from tests.fixtures.runtime import make_tenant


async def _two_tenants(runtime_factory):
    a, b = make_tenant(), make_tenant()
    rt = await runtime_factory([a, b])
    for t in (a, b):
        for n in range(2):
            cid = await contracts.add_customer(
                rt, t.slug, name=f"Klant {n}", representative="K", email=f"k{n}@{t.slug}.example"
            )
            await contracts.invite(rt, t.slug, cid)
    return rt, a.slug, b.slug


async def test_a_query_without_tenant_filter_sees_only_its_own_tenant(runtime_factory):
    rt, a, b = await _two_tenants(runtime_factory)
    ta, tb = rt.tenant_ids[a], rt.tenant_ids[b]
    async with rt.db.transaction() as s:
        TenantRepo(s, ta)  # the session now acts for tenant A
        # Deliberately no tenant filter: the database itself keeps B's rows out.
        tenants = set((await s.scalars(select(Contract.tenant_id))).all())
        assert tenants == {ta}
        assert {c.tenant_id for c in (await s.scalars(select(Customer))).all()} == {ta}
        assert await s.scalar(select(func.count()).select_from(Message)) > 0
        ids = (await s.scalars(select(Message.tenant_id))).all()
        assert set(ids) == {ta}
    # A session bound to no tenant sees no tenant's rows at all.
    async with rt.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(Contract)) == 0
    # And B's session sees B's.
    async with rt.db.transaction() as s:
        TenantRepo(s, tb)
        assert set((await s.scalars(select(Contract.tenant_id))).all()) == {tb}


async def test_rows_cannot_be_written_into_another_tenant(runtime_factory):
    rt, a, b = await _two_tenants(runtime_factory)
    ta, tb = rt.tenant_ids[a], rt.tenant_ids[b]
    with pytest.raises(sqlalchemy.exc.ProgrammingError, match="row-level security"):
        async with rt.db.transaction() as s:
            TenantRepo(s, ta)
            s.add(Customer(tenant_id=tb, name="X", representative="X", email="x@x.example"))
            await s.flush()
    # An update that forgets the filter changes only its own tenant's rows.
    async with rt.db.transaction() as s:
        TenantRepo(s, ta)
        result = await s.execute(text("UPDATE contracts SET state = 'cancelled'"))
        assert result.rowcount == 2
    async with rt.db.transaction() as s:
        TenantRepo(s, tb)
        states = set((await s.scalars(select(Contract.state))).all())
    assert states == {"invited"}


async def test_one_transaction_never_mixes_tenants(runtime_factory):
    rt, a, b = await _two_tenants(runtime_factory)
    async with rt.db.transaction() as s:
        TenantRepo(s, rt.tenant_ids[a])
        with pytest.raises(ScopeError):
            TenantRepo(s, rt.tenant_ids[b])
    # A scope of several tenants (one bot serving them) may narrow to one of them.
    async with rt.db.transaction() as s:
        bind(s, rt.tenant_ids.values())
        TenantRepo(s, rt.tenant_ids[a])
        assert len(set((await s.scalars(select(Contract.tenant_id))).all())) == 2


async def test_repositories_filter_by_their_own_tenants_inside_a_wider_scope(runtime_factory):
    """The filter is the repositories' own, not only the database's: a transaction that may see
    three tenants (bound wide on purpose) still gets from a tenant's scope, or from the tenants
    of one bot, only their rows."""
    tenants = [make_tenant() for _ in range(3)]
    rt = await runtime_factory(tenants)
    a, b, c = (t.slug for t in tenants)
    for t in (a, b, c):
        cid = await contracts.add_customer(
            rt, t, name="Klant", representative="K", email=f"k@{t}.example"
        )
        await contracts.invite(rt, t, cid)
    with pytest.raises(ConfigError, match="There is no tenant 'nope' in this configuration"):
        rt.scope("nope")
    scope_a = rt.scope(a)
    assert (scope_a.id, scope_a.slug, scope_a.name) == (rt.tenant_ids[a], a, rt.tenants[a].name)
    async with rt.db.transaction() as s:
        bind(s, rt.tenant_ids.values())
        everyone = (await s.scalars(select(Contract))).all()
        by_tenant = {k.tenant_id: k for k in everyone}
        assert len(everyone) == len(by_tenant) == 3
        theirs = by_tenant[rt.tenant_ids[b]]
        repo = scope_a.repo(s)
        assert {k.tenant_id for k in await repo.lock_contracts_in(["invited"])} == {scope_a.id}
        assert await repo.contract_counts() == {"invited": 1}
        with pytest.raises(NotFound):
            await repo.contract(theirs.id)
        bot = BotTenants(s, [rt.tenant_ids[a], rt.tenant_ids[b]])
        other = by_tenant[rt.tenant_ids[c]]
        assert other.chat_token and theirs.chat_token
        assert await bot.lock_contract_by_chat_token(other.chat_token) is None
        found = await bot.lock_contract_by_chat_token(theirs.chat_token)
        assert found is not None and found.id == theirs.id


async def test_the_service_runs_as_a_role_that_cannot_bypass_it(runtime_factory):
    rt, a, _ = await _two_tenants(runtime_factory)
    async with rt.db.transaction() as s:
        user, superuser, bypass = (
            await s.execute(
                text(
                    "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                    "WHERE rolname = current_user"
                )
            )
        ).one()
        assert (user, superuser, bypass) == (APP_ROLE, False, False)
        # RESET ROLE goes back to the role set at connection start, not to the owner.
        await s.execute(text("RESET ROLE"))
        assert await s.scalar(text("SELECT current_user")) == APP_ROLE
        assert await s.scalar(select(func.count()).select_from(Contract)) == 0
    # The audit log is append-only for the service's role.
    with pytest.raises(sqlalchemy.exc.ProgrammingError, match="permission denied"):
        async with rt.db.transaction() as s:
            TenantRepo(s, rt.tenant_ids[a])
            await s.execute(text("DELETE FROM audit_events"))


def test_every_tenant_table_has_row_level_security(database_url):
    with psycopg.connect(database_url) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND column_name = 'tenant_id'"
            )
        }
        secured = {
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_policy p ON p.polrelid = c.oid "
                "WHERE c.relrowsecurity"
            )
        }
    assert len(tables) >= 12
    assert tables <= secured, f"tenant tables without a policy: {sorted(tables - secured)}"
