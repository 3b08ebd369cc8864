"""Contracts listed for operators: across the tenants a command may see, by state and by
customer; and how many match but are not archived (so an empty archive search can say so)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select

from storage.models import ArchiveEntry, Contract, Customer
from storage.repositories.base import Scoped


@dataclass(frozen=True)
class ListedContract:
    id: int
    tenant_id: int
    state: str
    version: int
    customer: str
    email: str
    enterprise_number: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


def customer_matches(text: str) -> ColumnElement[bool] | None:
    """A customer's name or email holding the text, or an enterprise number holding its digits
    (BE0840.465.705, 0840 465 705 and 0840465705 are one number); None for no text."""
    text = text.strip()
    if not text:
        return None
    like = f"%{text}%"
    conditions: list[ColumnElement[bool]] = [Customer.name.ilike(like), Customer.email.ilike(like)]
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits:
        conditions.append(
            func.regexp_replace(Customer.enterprise_number, "[^0-9]", "", "g").contains(digits)
        )
    return or_(*conditions)


class ContractList(Scoped):
    async def list_contracts(
        self, *, state: str | None = None, customer: str = "", limit: int = 50
    ) -> Sequence[ListedContract]:
        """Newest first (by last change)."""
        stmt = (
            select(
                Contract.id,
                Contract.tenant_id,
                Contract.state,
                Contract.current_version,
                Customer.name,
                Customer.email,
                Customer.enterprise_number,
                Contract.created_at,
                Contract.updated_at,
            )
            .join(Customer, Customer.id == Contract.customer_id)
            .where(self._mine(Contract))
        )
        if state is not None:
            stmt = stmt.where(Contract.state == state)
        matches = customer_matches(customer)
        if matches is not None:
            stmt = stmt.where(matches)
        rows = await self.session.execute(
            stmt.order_by(Contract.updated_at.desc(), Contract.id.desc()).limit(limit)
        )
        return [ListedContract(*row) for row in rows.tuples().all()]

    async def count_unarchived(
        self, *, state: str | None = None, customer: str = ""
    ) -> dict[str, int]:
        """State → how many contracts match but have no archive entry."""
        stmt = (
            select(Contract.state, func.count())
            .join(Customer, Customer.id == Contract.customer_id)
            .outerjoin(ArchiveEntry, ArchiveEntry.contract_id == Contract.id)
            .where(self._mine(Contract), ArchiveEntry.id.is_(None))
            .group_by(Contract.state)
        )
        if state is not None:
            stmt = stmt.where(Contract.state == state)
        matches = customer_matches(customer)
        if matches is not None:
            stmt = stmt.where(matches)
        rows = await self.session.execute(stmt)
        return {s: n for s, n in rows.tuples().all()}
