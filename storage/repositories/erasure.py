"""Erasure: a contract's or an address's personal data overwritten in place; the rows stay,
with the hashes that prove what was received and signed (bot/archive/retention.py decides)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_

from storage.models import ChangeRequest, Contract, ContractVersion, Message
from storage.repositories.base import TenantScoped

ERASED = "[erased]"  # what stands where personal data was


class Erasure(TenantScoped):
    async def erase_versions(self, contract: Contract) -> None:
        """The answers of every version, and who changed them and why."""
        await self.session.execute(
            self._update(ContractVersion)
            .where(ContractVersion.contract_id == contract.id)
            .values(fields={}, changed_by=ERASED, reason="")
        )

    async def erase_change_requests(self, contract: Contract) -> None:
        await self.session.execute(
            self._update(ChangeRequest)
            .where(ChangeRequest.contract_id == contract.id)
            .values(text=ERASED)
        )

    async def erase_messages(self, contract: Contract) -> int:
        """Every mail and chat message of the contract; returns how many."""
        return await self._erase_messages(Message.contract_id == contract.id)

    async def erase_stray_mail(self, email: str) -> int:
        """Mails from or to this address that never reached a contract; returns how many."""
        return await self._erase_messages(
            Message.contract_id.is_(None),
            or_(Message.from_addr.ilike(f"%{email}%"), Message.to_addr.ilike(f"%{email}%")),
        )

    async def _erase_messages(self, *where: ColumnElement[bool]) -> int:
        # The hash of the raw mail stays: it proves what was received without keeping it.
        result = await self.session.execute(
            self._update(Message)
            .where(*where)
            .values(raw=b"", from_addr=None, to_addr=None, subject=None, detail=ERASED)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
