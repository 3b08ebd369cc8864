"""A tenant's archive entries: one per completed contract, searched by staff and operators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.dialects.postgresql import insert

from storage.models import ArchiveEntry, Contract
from storage.repositories.base import TenantScoped


class Archive(TenantScoped):
    async def add_archive_entry(self, **values: Any) -> None:
        await self.session.execute(
            insert(ArchiveEntry)
            .values(tenant_id=self.tenant_id, **values)
            .on_conflict_do_nothing(index_elements=["contract_id"])
        )

    async def archive_entry(self, entry_id: str) -> ArchiveEntry:
        return await self._one(ArchiveEntry, entry_id, "archive entry")

    async def archive_entry_for(self, contract: Contract) -> ArchiveEntry | None:
        return await self.session.scalar(
            self._select(ArchiveEntry).where(ArchiveEntry.contract_id == contract.id)
        )

    async def archive_entry_by_sha256(self, sha256: str) -> ArchiveEntry | None:
        """The entry whose archived PDF has exactly this SHA-256 (the public verification page)."""
        return await self.session.scalar(
            self._select(ArchiveEntry)
            .where(ArchiveEntry.pdf_sha256 == sha256, ArchiveEntry.erased_at.is_(None))
            .limit(1)
        )

    async def search_archive(
        self,
        query: str,
        limit: int = 50,
        *,
        state: str | None = None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> Sequence[ArchiveEntry]:
        """Entries matching a name, email, enterprise number or id (all when empty), newest
        first; state is the contract's, dates bound the archiving day (both inclusive)."""
        like = f"%{query.strip()}%"
        digits = "".join(ch for ch in query if ch.isdigit())
        conditions = [
            ArchiveEntry.customer_name.ilike(like),
            ArchiveEntry.customer_email.ilike(like),
            ArchiveEntry.id == query.strip(),
        ]
        if digits:
            # BE0840.465.705, 0840 465 705 and 0840465705 are the same number.
            conditions.append(
                func.regexp_replace(
                    ArchiveEntry.customer_enterprise_number, "[^0-9]", "", "g"
                ).contains(digits)
            )
        stmt = self._select(ArchiveEntry)
        if query.strip():
            stmt = stmt.where(or_(*conditions))
        if state is not None:
            stmt = stmt.join(Contract, Contract.id == ArchiveEntry.contract_id).where(
                Contract.state == state
            )
        if date_from is not None:
            stmt = stmt.where(ArchiveEntry.created_at >= _day_start(date_from))
        if date_to is not None:
            stmt = stmt.where(ArchiveEntry.created_at < _day_start(date_to + dt.timedelta(days=1)))
        rows = await self.session.scalars(
            stmt.order_by(ArchiveEntry.created_at.desc()).limit(limit)
        )
        return rows.all()

    async def archive_entries(self) -> Sequence[ArchiveEntry]:
        rows = await self.session.scalars(
            self._select(ArchiveEntry).order_by(ArchiveEntry.created_at)
        )
        return rows.all()


def _day_start(day: dt.date) -> dt.datetime:
    # Dates on the command line are UTC days, like the archive's folders.
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
