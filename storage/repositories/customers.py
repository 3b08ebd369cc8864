"""A tenant's customers: found by id or email, imported in bulk, locked for a send, searched."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from storage.models import ArchiveEntry, Contract, Customer
from storage.repositories.base import TenantScoped

# Customers read per query when looking for those not invited yet (no page asked for).
SCAN = 1000


class Customers(TenantScoped):
    async def customer(self, customer_id: int) -> Customer:
        return await self._one(Customer, customer_id, "customer")

    async def add_customer(self, **values: Any) -> Customer:
        return await self._add(Customer(**values))

    async def customer_by_email(self, email: str) -> Customer | None:
        return await self.session.scalar(
            self._select(Customer).where(Customer.email == email.lower())
        )

    async def customers_by_ids(self, ids: Sequence[int]) -> dict[int, Customer]:
        """This tenant's customers among ``ids`` (other tenants' ids are simply absent)."""
        found: dict[int, Customer] = {}
        for start in range(0, len(ids), 5000):  # bounded IN lists for big sends
            rows = await self.session.scalars(
                self._select(Customer).where(Customer.id.in_(ids[start : start + 5000]))
            )
            found.update((c.id, c) for c in rows.all())
        return found

    async def customers_by_emails(self, emails: Sequence[str]) -> dict[str, Customer]:
        """This tenant's customers with one of ``emails`` (lower case), by email."""
        found: dict[str, Customer] = {}
        wanted = sorted({e.lower() for e in emails})
        for start in range(0, len(wanted), 5000):  # bounded IN lists for big imports
            rows = await self.session.scalars(
                self._select(Customer).where(Customer.email.in_(wanted[start : start + 5000]))
            )
            found.update((c.email, c) for c in rows.all())
        return found

    async def add_customers(self, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Insert customers in bulk; one whose email the tenant has already (a concurrent
        import) is left alone. Returns email → id of the rows inserted here."""
        inserted: dict[str, int] = {}
        for start in range(0, len(rows), 1000):  # well under PostgreSQL's parameter limit
            chunk = [{**r, "tenant_id": self.tenant_id} for r in rows[start : start + 1000]]
            result = await self.session.execute(
                insert(Customer)
                .values(chunk)
                .on_conflict_do_nothing(index_elements=["tenant_id", "email"])
                .returning(Customer.email, Customer.id)
            )
            inserted.update((email, ident) for email, ident in result.all())
        return inserted

    async def customers_without_contract(
        self, *, after: int = 0, limit: int | None = None
    ) -> Sequence[Customer]:
        """Customers never invited (no contract in any state), oldest first; a page of them:
        ids above ``after``, at most ``limit``.

        The customers are read in id order, a page's worth at a time (SCAN when no limit is
        given), and those with a contract are left out: a page reads the customers it passes
        over, not every contract (migration 0013's index on tenant and id). One anti-join over all
        contracts read them all for every page: the pages of a 10,000-customer send cost
        PostgreSQL 6 s (pg_stat_statements, bench/bulk_send.py)."""
        found: list[Customer] = []
        scan = limit or SCAN
        while limit is None or len(found) < limit:
            rows = (
                await self.session.scalars(
                    self._select(Customer)
                    .where(Customer.id > after)
                    .order_by(Customer.id)
                    .limit(scan)
                )
            ).all()
            invited = await self.customers_with_contract([c.id for c in rows])
            found += (c for c in rows if c.id not in invited)
            if len(rows) < scan:
                break
            after = rows[-1].id
        return found if limit is None else found[:limit]

    async def count_customers_without_contract(self) -> int:
        """How many customers have never been invited."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(Customer)
            .where(
                self._mine(Customer),
                ~select(Contract.id).where(Contract.customer_id == Customer.id).exists(),
            )
        )
        return int(count or 0)

    async def customers_with_contract(self, ids: Sequence[int]) -> set[int]:
        """Which of these customers have a contract (in any state)."""
        found: set[int] = set()
        for start in range(0, len(ids), 5000):
            rows = await self.session.scalars(
                select(Contract.customer_id)
                .where(self._mine(Contract), Contract.customer_id.in_(ids[start : start + 5000]))
                .distinct()
            )
            found.update(rows.all())
        return found

    async def lock_customers(self, customer_ids: Sequence[int]) -> tuple[set[int], set[int]]:
        """Lock the customers' rows until the transaction ends: (those that are this tenant's
        customers, those of them that have a contract)."""
        found = await self.session.scalars(
            select(Customer.id)
            .where(self._mine(Customer), Customer.id.in_(customer_ids))
            .order_by(Customer.id)  # one lock order for every caller: no deadlock between sends
            .with_for_update()
        )
        mine = set(found.all())
        return mine, await self.customers_with_contract(sorted(mine))

    async def search_customers(
        self, text: str, *, contract_id: int | None, state: str | None, limit: int
    ) -> Sequence[tuple[Customer, Contract | None, str | None]]:
        """Customers whose name, email or enterprise number holds ``text``, or with contract
        ``contract_id`` or a contract in ``state``: each with its contracts (and their archive
        ids), newest contract first."""
        like = f"%{text}%"
        digits = re.sub(r"\D", "", text)
        conditions: list[ColumnElement[bool]] = [
            Customer.name.ilike(like),
            Customer.email.ilike(like),
        ]
        if len(digits) >= 4:
            # BE0840.465.705, 0840 465 705 and 0840465705 are the same number.
            conditions.append(
                func.regexp_replace(Customer.enterprise_number, "[^0-9]", "", "g").contains(digits)
            )
        if contract_id is not None:
            conditions.append(Contract.id == contract_id)
        if state is not None:
            conditions.append(Contract.state == state)
        rows = await self.session.execute(
            select(Customer, Contract, ArchiveEntry.id)
            .outerjoin(Contract, (Contract.customer_id == Customer.id) & self._mine(Contract))
            .outerjoin(
                ArchiveEntry, (ArchiveEntry.contract_id == Contract.id) & self._mine(ArchiveEntry)
            )
            .where(self._mine(Customer), or_(*conditions))
            .order_by(Contract.id.desc().nulls_last(), Customer.id.desc())
            .limit(limit)
        )
        return [(c, k, a) for c, k, a in rows.all()]
