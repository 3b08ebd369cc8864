"""/status (contracts per state, the oldest waiting) and /find (customers and contracts)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.contracts.reminders import WAITING
from bot.domain.workflow import State
from handlers.staff._context import StaffContext
from handlers.staff._registry import STAFF, command
from storage.models import Contract
from templates.chat import parse_state

MAX_FOUND = 50


@command("status", roles=STAFF, help="contracts per state and the oldest one waiting")
async def status(sc: StaffContext) -> None:
    async with sc.repo() as repo:
        counts = await repo.contract_counts()
        oldest = await repo.oldest_in(WAITING)
    now = dt.datetime.now(dt.UTC)
    order = [s.value for s in State]
    await sc.reply_template(
        "status",
        tenant=sc.tenant.name,
        counts=sorted(counts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99),
        total=sum(counts.values()),
        oldest=None
        if oldest is None
        else {
            "ref": _ref(sc, oldest[0]),
            "customer": oldest[1],
            "state": oldest[0].state,
            "age": now - oldest[0].created_at,
        },
    )
    sc.detail["counts"] = counts


@command(
    "find",
    roles=STAFF,
    help="customers and contracts by name, number, email, id or state",
    usage="TEXT",
)
async def find(sc: StaffContext) -> None:
    query = sc.text
    sc.detail["query"] = query
    if not query:
        await sc.reply_template("usage", command="find")
        return
    found = await search(sc, query)
    sc.detail["results"] = len(found)
    await sc.reply_template("find", query=query, found=found, limit=MAX_FOUND)


async def search(sc: StaffContext, query: str) -> list[dict[str, Any]]:
    """The tenant's customers (with their contracts) matching the query, newest first."""
    q = query.strip()
    ident = q.removeprefix("#").removeprefix(f"{sc.slug}-")
    async with sc.repo() as repo:
        rows = await repo.search_customers(
            q,
            contract_id=int(ident) if ident.isdigit() and len(ident) < 10 else None,
            state=parse_state(q),
            limit=MAX_FOUND,
        )
    now = dt.datetime.now(dt.UTC)
    return [
        {
            "customer": customer.name,
            "enterprise_number": customer.enterprise_number,
            "email": customer.email,
            "ref": _ref(sc, contract) if contract else None,
            "state": contract.state if contract else None,
            "version": contract.current_version if contract else None,
            "age": (now - contract.created_at) if contract else dt.timedelta(0),
            "archive_id": archive_id,
        }
        for customer, contract, archive_id in rows
    ]


def _ref(sc: StaffContext, contract: Contract) -> str:
    return f"#{contract.id}"
