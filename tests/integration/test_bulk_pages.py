"""A bulk send to every pending customer reads them page by page: each invited once."""

from __future__ import annotations

from bot.contracts import bulk, customer_import
from handlers.reader.customer_file import read_customer_file
from tests.fixtures.runtime import make_tenant


async def test_pending_customers_are_read_in_pages_and_each_invited_once(
    runtime_factory, monkeypatch
):
    monkeypatch.setattr(bulk, "PAGE", 2)  # 7 customers: four pages
    monkeypatch.setattr(bulk, "BATCH", 3)  # and several batches, stored by several writers
    tenant = make_tenant()
    rt = await runtime_factory([tenant])
    lines = "".join(f"Klant {i};klant{i}@klanten.example;Contact {i};;;nl\n" for i in range(7))
    parsed = read_customer_file(f"naam;email;contact;btw;functie;taal\n{lines}".encode())
    assert parsed.ok, parsed.problems
    imported = await customer_import.import_customers(rt, tenant.slug, parsed.rows, "t")

    plan = await bulk.plan_invitations(rt, tenant.slug, bulk.PENDING, count_only=True)
    assert (plan.count, plan.customers) == (7, ())  # counted, not loaded
    calls: list[tuple[int, int, int]] = []

    async def progress(done: int, total: int, failures: int) -> None:
        calls.append((done, total, failures))

    summary = await bulk.send_invitations(rt, tenant.slug, bulk.PENDING, "t", progress=progress)
    invited = sorted(i.customer_id for i in summary.invited)
    assert invited == sorted(imported.customer_ids) and not summary.failed
    assert len({i.contract_id for i in summary.invited}) == 7
    assert sorted(calls) == [(n, 7, 0) for n in range(1, 8)]
    again = await bulk.plan_invitations(rt, tenant.slug, bulk.PENDING, count_only=True)
    assert again.count == 0


async def test_pages_step_over_customers_invited_already_and_other_tenants(
    runtime_factory, monkeypatch
):
    """Pages read the customers in id order and leave out the invited: a page full of
    customers invited earlier (a send resumed) is stepped over, never ends the send."""
    monkeypatch.setattr(bulk, "PAGE", 2)
    ours, theirs = make_tenant(), make_tenant()
    rt = await runtime_factory([ours, theirs])

    async def imported(tenant, first: int, n: int) -> list[int]:
        lines = "".join(
            f"Klant {i};k{i}@{tenant.slug}.example;Contact {i};;;nl\n"
            for i in range(first, first + n)
        )
        parsed = read_customer_file(f"naam;email;contact;btw;functie;taal\n{lines}".encode())
        assert parsed.ok, parsed.problems
        done = await customer_import.import_customers(rt, tenant.slug, parsed.rows, "t")
        return sorted(done.customer_ids)

    ids = await imported(ours, 0, 5)
    other = await imported(theirs, 0, 3)
    ids += await imported(ours, 5, 4)  # the other tenant's customers lie between ours
    assert len(set(ids)) == 9
    earlier = [ids[0], ids[1], ids[2], ids[3], ids[6]]  # whole pages, and more, invited
    first = await bulk.send_invitations(rt, ours.slug, earlier, "t")
    assert sorted(i.customer_id for i in first.invited) == sorted(earlier)

    summary = await bulk.send_invitations(rt, ours.slug, bulk.PENDING, "t")
    assert not summary.failed
    assert sorted(i.customer_id for i in summary.invited) == sorted(set(ids) - set(earlier))
    again = await bulk.plan_invitations(rt, ours.slug, bulk.PENDING, count_only=True)
    assert again.count == 0
    untouched = await bulk.plan_invitations(rt, theirs.slug, bulk.PENDING, count_only=True)
    assert untouched.count == len(other)
