"""Per-contract limits of the chat binding code: wrong codes across accounts, code mails an hour.

The state is the database's own rows, so every process serving the bot sees the same counts:
wrong codes are the sum of ``chat_bindings.tries`` of the contract, code mails are the
contract's ``messages`` of kind ``chat_code``, and "staff were told" is the ``notifications``
row itself. Callers hold the contract row locked (``FOR UPDATE``), which serialises two
accounts racing on one contract, so a count read here cannot be overtaken before it is acted on.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from storage import audit
from storage.models import Contract, Customer
from storage.notify import notify_staff
from storage.repositories import TenantRepo
from templates.chat import notice_text

# Wrong codes for one contract, all Telegram accounts together. A 6-digit code guessed 10
# times in all succeeds with a chance of 1 in 100,000 over the link's whole life, however many
# accounts an attacker opens; a customer who mistypes (or two colleagues who both try) stays
# well below it. Per account the limit stays MAX_TRIES (5, bot/customer_chat.py).
CONTRACT_MAX_TRIES = 10
# Code mails for one contract in a rolling hour, all accounts together. A customer whose mail is
# slow asks again once or twice; more than three in an hour is no longer someone waiting for a
# mail, and each one lands in the customer's inbox.
CODE_MAILS_PER_HOUR = 3
WINDOW = dt.timedelta(hours=1)
LINK_CLOSED = "chat_link_closed"  # notification kinds, also how "told already" is found
CODE_LIMIT = "chat_code_limit"


async def wrong_codes(repo: TenantRepo, contract_id: int) -> int:
    """Wrong codes entered for the contract so far, by every Telegram account."""
    return await repo.wrong_codes(contract_id)


async def link_closed(repo: TenantRepo, contract_id: int) -> bool:
    """Whether the contract's chat link is closed for good by too many wrong codes."""
    return await wrong_codes(repo, contract_id) >= CONTRACT_MAX_TRIES


@dataclass(frozen=True)
class MailWindow:
    """The contract's code mails of the last hour and when the oldest of them leaves it."""

    sent: int
    retry_in: dt.timedelta

    @property
    def full(self) -> bool:
        return self.sent >= CODE_MAILS_PER_HOUR

    @property
    def retry_minutes(self) -> int:
        return max(1, math.ceil(self.retry_in.total_seconds() / 60))


async def code_mails(repo: TenantRepo, contract_id: int) -> MailWindow:
    """The code mails of the last hour (queued, sent or failed: each was meant for the inbox).

    The database's clock, not this process's, so every process counts the same window."""
    sent, oldest, now = await repo.mail_window(contract_id, "chat_code", WINDOW)
    retry_in = oldest + WINDOW - now if oldest is not None else dt.timedelta(0)
    return MailWindow(sent, retry_in)


async def close_link(
    repo: TenantRepo, slug: str, contract: Contract, customer: Customer, user_id: int
) -> None:
    """Lock every pending binding of the contract; staff and the audit log hear of it once
    (a later account trying the closed link is recorded by the caller, not notified)."""
    await repo.lock_pending_bindings(contract.id)
    if await repo.told(LINK_CLOSED, f"contract:{contract.id}"):
        return
    accounts = await repo.accounts_with_wrong_codes(contract.id)
    total = await wrong_codes(repo, contract.id)
    await audit.record(
        repo.session,
        repo.tenant_id,
        f"telegram:{user_id}",
        "chat.link_closed",
        f"contract:{contract.id}",
        {"wrong_codes": total, "limit": CONTRACT_MAX_TRIES, "telegram_user_ids": accounts},
    )
    shown = ", ".join(str(a) for a in accounts[:5]) + (" …" if len(accounts) > 5 else "")
    params = {
        "total": total,
        "ref": f"{slug}-{contract.id}",
        "customer": customer.name,
        "accounts": len(accounts),
        "shown": shown,
    }
    await notify_staff(
        repo.session,
        repo.tenant_id,
        LINK_CLOSED,
        notice_text(LINK_CLOSED, params),
        f"contract:{contract.id}",
        params=params,
    )


async def refuse_code_mail(
    repo: TenantRepo,
    slug: str,
    contract: Contract,
    customer: Customer,
    user_id: int,
    window: MailWindow,
) -> None:
    """A code asked for beyond the hourly limit: recorded each time, staff told at most once an
    hour per contract (a limit hit is mostly an impatient customer; staff hear of it again only
    when it goes on into a new hour, which is when it looks like someone else's doing)."""
    await audit.record(
        repo.session,
        repo.tenant_id,
        f"telegram:{user_id}",
        "chat.code_limit",
        f"contract:{contract.id}",
        {"sent_last_hour": window.sent, "limit": CODE_MAILS_PER_HOUR, "telegram_user_id": user_id},
    )
    if await repo.told(CODE_LIMIT, f"contract:{contract.id}", within=WINDOW):
        return
    params = {
        "ref": f"{slug}-{contract.id}",
        "customer": customer.name,
        "limit": CODE_MAILS_PER_HOUR,
        "user_id": user_id,
    }
    await notify_staff(
        repo.session,
        repo.tenant_id,
        CODE_LIMIT,
        notice_text(CODE_LIMIT, params),
        f"contract:{contract.id}",
        params=params,
    )
