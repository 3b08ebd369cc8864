"""Customers' chat bindings and the messages queued for their chats; and the reads across the
tenants one Telegram bot serves, which route an update to its tenant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from storage.models import AuditEvent, ChatBinding, ChatOutbox, Contract
from storage.repositories.base import Scoped, TenantScoped


class ChatBindings(TenantScoped):
    async def bindings(self, contract_id: int) -> Sequence[ChatBinding]:
        """Every Telegram account bound, binding or locked out on the contract."""
        rows = await self.session.scalars(
            self._select(ChatBinding).where(ChatBinding.contract_id == contract_id)
        )
        return rows.all()

    async def add_binding(self, **values: Any) -> ChatBinding:
        return await self._add(ChatBinding(**values))

    async def bound_binding(self, contract_id: int) -> ChatBinding | None:
        """The account the contract's chat is bound to, if any."""
        return await self.session.scalar(
            self._select(ChatBinding).where(
                ChatBinding.contract_id == contract_id, ChatBinding.status == "bound"
            )
        )

    async def bound_elsewhere(self, contract_id: int, binding_id: int) -> bool:
        """Whether another account than this binding's is bound to the contract."""
        found = await self.session.scalar(
            select(ChatBinding.id).where(
                self._mine(ChatBinding),
                ChatBinding.contract_id == contract_id,
                ChatBinding.status == "bound",
                ChatBinding.id != binding_id,
            )
        )
        return found is not None

    async def wrong_codes(self, contract_id: int) -> int:
        """Wrong codes entered for the contract so far, by every Telegram account."""
        await self.session.flush()  # this transaction's own count first
        total = await self.session.scalar(
            select(func.coalesce(func.sum(ChatBinding.tries), 0)).where(
                self._mine(ChatBinding), ChatBinding.contract_id == contract_id
            )
        )
        return int(total or 0)

    async def lock_pending_bindings(self, contract_id: int) -> None:
        """Every account still binding to the contract is locked out, its code void."""
        await self.session.execute(
            self._update(ChatBinding)
            .where(ChatBinding.contract_id == contract_id, ChatBinding.status == "pending")
            .values(status="locked", code_hash=None, code_expires_at=None)
        )

    async def accounts_with_wrong_codes(self, contract_id: int) -> list[int]:
        """The Telegram users who entered a wrong code for the contract, first one first."""
        rows = await self.session.scalars(
            select(ChatBinding.telegram_user_id)
            .where(
                self._mine(ChatBinding),
                ChatBinding.contract_id == contract_id,
                ChatBinding.tries > 0,
            )
            .order_by(ChatBinding.id)
        )
        return list(rows.all())

    async def add_chat_message(self, **values: Any) -> ChatOutbox:
        """A message queued for a customer's chat (the delivery loop sends it)."""
        return await self._add(ChatOutbox(**values))


class BotTenants(Scoped):
    """Reads across the tenants one Telegram bot (token) serves. A customer's update names no
    tenant: it is routed by its chat link or its binding, so these look at every tenant of the
    bot at once, and never at a tenant of another bot."""

    async def binding_of(self, user_id: int) -> ChatBinding | None:
        """The user's latest binding with a contract of one of these tenants, not locked: a
        writer locks the contract row first and the binding after."""
        return await self.session.scalar(
            self._select(ChatBinding)
            .where(ChatBinding.telegram_user_id == user_id)
            .order_by(ChatBinding.updated_at.desc(), ChatBinding.id.desc())
            .limit(1)
        )

    async def lock_contract_by_chat_token(self, token: str) -> Contract | None:
        """The contract whose chat link carries this token, locked: two accounts racing on one
        contract take turns."""
        return await self.session.scalar(
            self._select(Contract).where(Contract.chat_token == token).with_for_update()
        )

    async def next_chat_message(self) -> ChatOutbox | None:
        """The oldest undelivered chat message, locked; one another round holds is skipped."""
        return await self.session.scalar(
            self._select(ChatOutbox)
            .where(ChatOutbox.delivered_at.is_(None))
            .order_by(ChatOutbox.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )

    async def has_event(self, action: str, subject: str) -> bool:
        """Whether any of these tenants' audit logs has this event (someone refused before)."""
        found = await self.session.scalar(
            select(AuditEvent.id)
            .where(
                self._mine(AuditEvent), AuditEvent.action == action, AuditEvent.subject == subject
            )
            .limit(1)
        )
        return found is not None
