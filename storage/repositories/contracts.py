"""A tenant's contracts, their versions, change requests and signatures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert

from storage.errors import NotFound
from storage.models import ChangeRequest, Contract, ContractVersion, Customer, Signature
from storage.repositories.base import TenantScoped

COMPLETED = "completed"  # the contract state of a signed and archived contract


class Contracts(TenantScoped):
    async def contract(self, contract_id: int, *, for_update: bool = False) -> Contract:
        return await self._one(Contract, contract_id, "contract", for_update=for_update)

    async def contract_by_token(self, token: str) -> Contract | None:
        return await self.session.scalar(
            self._select(Contract).where(Contract.reply_token == token)
        )

    async def add_contract(self, **values: Any) -> Contract:
        return await self._add(Contract(**values))

    async def lock_contracts_in(self, states: Iterable[str]) -> Sequence[Contract]:
        """The contracts in these states, oldest first, locked; one another transaction holds
        (a reply being handled) is left out: that one wins, the caller sees it next time."""
        rows = await self.session.scalars(
            self._select(Contract)
            .where(Contract.state.in_(list(states)))
            .order_by(Contract.id)
            .with_for_update(skip_locked=True)
        )
        return rows.all()

    async def contract_counts(self) -> dict[str, int]:
        """How many contracts are in each state."""
        rows = await self.session.execute(
            select(Contract.state, func.count())
            .where(self._mine(Contract))
            .group_by(Contract.state)
        )
        return {state: n for state, n in rows.all()}

    async def oldest_in(self, states: Iterable[str]) -> tuple[Contract, str] | None:
        """The oldest contract in these states and its customer's name."""
        row = (
            await self.session.execute(
                select(Contract, Customer.name)
                .join(Customer, Customer.id == Contract.customer_id)
                .where(self._mine(Contract), Contract.state.in_(list(states)))
                .order_by(Contract.created_at, Contract.id)
                .limit(1)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def lock_due_for_erasure(
        self, *, unsigned_before: dt.datetime, signed_before: dt.datetime
    ) -> Sequence[Contract]:
        """Contracts not erased yet whose retention ran out, locked: not completed and created
        before ``unsigned_before``, or completed before ``signed_before``."""
        rows = await self.session.scalars(
            self._select(Contract)
            .where(
                Contract.erased_at.is_(None),
                or_(
                    (Contract.state != COMPLETED) & (Contract.created_at < unsigned_before),
                    (Contract.state == COMPLETED) & (Contract.completed_at < signed_before),
                ),
            )
            .order_by(Contract.id)
            .with_for_update()
        )
        return rows.all()

    async def lock_contracts_of(self, customer: Customer) -> Sequence[Contract]:
        """The customer's contracts, oldest first, locked."""
        rows = await self.session.scalars(
            self._select(Contract)
            .where(Contract.customer_id == customer.id)
            .order_by(Contract.id)
            .with_for_update()
        )
        return rows.all()

    async def has_unerased_contract(self, customer_id: int) -> bool:
        left = await self.session.scalar(
            select(Contract.id)
            .where(
                self._mine(Contract),
                Contract.customer_id == customer_id,
                Contract.erased_at.is_(None),
            )
            .limit(1)
        )
        return left is not None

    async def add_version(self, contract: Contract, **values: Any) -> ContractVersion:
        return await self._add(ContractVersion(contract_id=contract.id, **values))

    async def version(self, contract: Contract, number: int | None = None) -> ContractVersion:
        number = contract.current_version if number is None else number
        row = await self.session.scalar(
            self._select(ContractVersion).where(
                ContractVersion.contract_id == contract.id, ContractVersion.number == number
            )
        )
        if row is None:
            raise NotFound(f"Contract {contract.id} has no version {number}.")
        return row

    async def versions(self, contract: Contract) -> Sequence[ContractVersion]:
        rows = await self.session.scalars(
            self._select(ContractVersion)
            .where(ContractVersion.contract_id == contract.id)
            .order_by(ContractVersion.number)
        )
        return rows.all()

    async def add_change_request(self, **values: Any) -> ChangeRequest:
        return await self._add(ChangeRequest(**values))

    async def change_request(self, cr_id: int, *, for_update: bool = False) -> ChangeRequest:
        return await self._one(ChangeRequest, cr_id, "change request", for_update=for_update)

    async def change_requests(
        self, contract: Contract | None, *, status: str | None = None
    ) -> Sequence[ChangeRequest]:
        """A contract's change requests (every contract's when None), oldest first."""
        stmt = self._select(ChangeRequest)
        if contract is not None:
            stmt = stmt.where(ChangeRequest.contract_id == contract.id)
        if status is not None:
            stmt = stmt.where(ChangeRequest.status == status)
        rows = await self.session.scalars(stmt.order_by(ChangeRequest.id))
        return rows.all()

    async def add_signature(self, **values: Any) -> None:
        await self.session.execute(
            insert(Signature)
            .values(tenant_id=self.tenant_id, **values)
            .on_conflict_do_nothing(index_elements=["contract_id", "version", "party"])
        )

    async def signatures(self, contract: Contract) -> Sequence[Signature]:
        rows = await self.session.scalars(
            self._select(Signature)
            .where(Signature.contract_id == contract.id)
            .order_by(Signature.id)
        )
        return rows.all()
