"""A customer's chat context: the binding of an update, its contract, loaded and locked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat import limits as chat_limits
from bot.chat.incoming import Incoming
from bot.contracts import Applied, apply_reading, settle
from bot.core.runtime import Runtime
from bot.domain.workflow import OPEN_STATES, State
from bot.outbox.chat import Reply
from handlers.reader.model import Interpretation
from storage import audit
from storage.blobs import sha256_hex
from storage.models import ChatBinding, Contract, ContractVersion, Customer, Message
from storage.repositories import BotTenants, TenantRepo
from templates.chat import render_customer


async def binding_of(s: AsyncSession, tenants: dict[int, str], user_id: int) -> ChatBinding | None:
    """The user's latest binding with a contract of one of this bot's tenants, not locked: a
    writer locks the contract row first and the binding after (see ``bound_ctx``)."""
    return await BotTenants(s, tenants).binding_of(user_id)


async def is_customer(rt: Runtime, tenants: dict[int, str], user_id: int) -> bool:
    async with rt.db.transaction(tenants=tenants) as s:
        return await binding_of(s, tenants, user_id) is not None


async def record_for_all(
    s: AsyncSession, inc: Incoming, action: str, detail: dict[str, Any]
) -> None:
    """An event no contract can be told from: in the log of each tenant of this bot."""
    for tid in inc.tenants:
        await audit.record(
            s, tid, f"telegram:{inc.user_id}", action, f"telegram:{inc.user_id}", detail
        )


@dataclass
class Ctx:
    """A bound (or binding) customer's contract, loaded in one transaction."""

    s: AsyncSession
    rt: Runtime
    inc: Incoming
    slug: str
    repo: TenantRepo
    contract: Contract
    customer: Customer
    binding: ChatBinding

    @property
    def lang(self) -> str:
        return self.customer.language

    def t(self, name: str, **ctx: Any) -> str:
        return render_customer(name, self.lang, **ctx)

    async def apply(
        self,
        version: ContractVersion,
        row: Message,
        reading: Interpretation,
        *,
        accepts_final: Callable[[], Awaitable[bool]],
        reason: str,
    ) -> Applied:
        """apply_reading (what a mailed reply does) to this contract, for a chat message."""
        return await apply_reading(
            self.s,
            self.repo,
            self.slug,
            self.contract,
            self.customer,
            version,
            row,
            reading,
            accepts_final=accepts_final,
            reason=reason,
        )

    async def record(self, action: str, **detail: Any) -> None:
        await audit.record(
            self.s,
            self.repo.tenant_id,
            f"telegram:{self.inc.user_id}",
            action,
            f"contract:{self.contract.id}",
            {"chat_id": self.inc.chat_id, **detail},
        )


async def load_ctx(s: AsyncSession, rt: Runtime, inc: Incoming, b: ChatBinding) -> Ctx:
    slug = inc.tenants[b.tenant_id]
    repo = rt.scope(slug).repo(s)
    contract = await repo.contract(b.contract_id, for_update=True)
    customer = await repo.customer(contract.customer_id)
    return Ctx(s, rt, inc, slug, repo, contract, customer, b)


def tenant_name(c: Ctx) -> str:
    return c.rt.tenant(c.slug).name


async def store_message(c: Ctx, kind: str, raw: bytes | None = None) -> Message:
    """The customer's chat message, kept like a mail (channel telegram): the history."""
    raw = raw if raw is not None else c.inc.evidence(c.customer.email)
    row = await c.repo.insert_message(
        contract_id=c.contract.id,
        direction="in",
        channel="telegram",
        kind=kind,
        message_id=f"<telegram-{c.inc.chat_id}-{c.inc.update_id}@dpabot.invalid>",
        from_addr=f"telegram:{c.inc.user_id}",
        subject="",
        raw=raw,
        raw_sha256=sha256_hex(raw),
        outcome="pending",
    )
    if row is None:  # the same update twice (a retried delivery): already handled
        raise Duplicate()
    return row


class Duplicate(Exception):
    pass


async def never() -> bool:
    return False


async def bound_ctx(rt: Runtime, inc: Incoming, s: AsyncSession) -> Ctx | list[Reply]:
    """The customer's context, or what to answer when they are not (or no longer) bound."""
    b = await binding_of(s, inc.tenants, inc.user_id)
    if b is None:
        return [Reply(render_customer("unknown_link", inc.lang))]
    c = await load_ctx(s, rt, inc, b)
    # Contract row first, then the binding: the order start() and chat_limits.close_link keep
    # (it locks other accounts' bindings), so two accounts of one contract never deadlock.
    await s.refresh(b, with_for_update=True)
    if b.status == "locked":
        if await chat_limits.link_closed(c.repo, c.contract.id):
            return [Reply(c.t("link_closed", tenant_name=tenant_name(c)))]
        return [Reply(c.t("locked"))]
    return c


async def open_ctx(rt: Runtime, inc: Incoming, s: AsyncSession, kind: str) -> Ctx | list[Reply]:
    """A bound customer's context on an open contract, or what to answer instead (not bound,
    still binding, or the contract closed: that message is kept as ``kind``)."""
    got = await bound_ctx(rt, inc, s)
    if isinstance(got, list):
        return got
    if got.binding.status != "bound":
        return [Reply(got.t("type_code"))]
    closed = await closed_reply(got, kind)
    return got if closed is None else closed


async def closed_reply(c: Ctx, kind: str) -> list[Reply] | None:
    if State(c.contract.state) in OPEN_STATES:
        return None
    row = await store_message(c, kind)
    await settle(c.s, c.repo, row, "closed_contract", f"contract is {c.contract.state}", c.contract)
    return [
        Reply(c.t("closed", state=c.t("state", state=c.contract.state), tenant_name=tenant_name(c)))
    ]


async def always() -> bool:
    return True
