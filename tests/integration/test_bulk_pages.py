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
