"""The base of every repository: queries filtered by the tenants it was made for, the session
bound to them (row-level security, storage/scope.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, Update, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import models, scope
from storage.errors import NotFound

# Every model that carries tenant_id (all but Tenant itself).
Row = TypeVar(
    "Row",
    models.ArchiveEntry,
    models.AuditEvent,
    models.ChangeRequest,
    models.ChatBinding,
    models.ChatOutbox,
    models.Contract,
    models.ContractVersion,
    models.Customer,
    models.Message,
    models.Notification,
    models.Signature,
    models.Staff,
)


class Scoped:
    """Queries for some tenants: ``_select`` and ``_update`` filter by them already, ``_mine``
    is the filter for statements built by hand (columns, counts, joins).

    Making one binds the session to those tenants: PostgreSQL's row-level security then shows
    this transaction their rows only, a second wall behind the filter (storage/scope.py).
    """

    def __init__(self, session: AsyncSession, tenant_ids: Iterable[int]) -> None:
        self.session = session
        self.tenant_ids = tuple(sorted({int(t) for t in tenant_ids}))
        scope.bind(session, self.tenant_ids)

    def _mine(self, model: type[Row]) -> ColumnElement[bool]:
        if len(self.tenant_ids) == 1:
            return model.tenant_id == self.tenant_ids[0]
        return model.tenant_id.in_(self.tenant_ids)

    def _select(self, model: type[Row]) -> Select[Row]:
        return select(model).where(self._mine(model))

    def _update(self, model: type[Row]) -> Update:
        return update(model).where(self._mine(model))


class TenantScoped(Scoped):
    """Queries for one tenant (the Polar habit: the repository applies the scope, callers
    never filter by tenant themselves); ids of other tenants are simply not found."""

    def __init__(self, session: AsyncSession, tenant_id: int) -> None:
        super().__init__(session, [tenant_id])
        self.tenant_id = tenant_id

    async def _one(
        self, model: type[Row], ident: Any, what: str, *, for_update: bool = False
    ) -> Row:
        stmt = self._select(model).where(model.id == ident)
        if for_update:
            # populate_existing: a row loaded earlier in this session (before the lock) would
            # otherwise keep its stale values, and two replies racing would both see them.
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        row = await self.session.scalar(stmt)
        if row is None:
            raise NotFound(f"There is no {what} {ident} for this tenant.")
        return row

    async def _add(self, row: Row) -> Row:
        """A new row of this tenant, flushed (its id filled in)."""
        row.tenant_id = self.tenant_id
        self.session.add(row)
        await self.session.flush()
        return row
