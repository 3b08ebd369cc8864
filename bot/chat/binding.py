"""Binding a customer's Telegram account to a contract: the mailed code, entered in the chat."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
import secrets

from bot.chat import limits as chat_limits
from bot.chat.context import Ctx, load_ctx, record_for_all, tenant_name
from bot.chat.incoming import Incoming
from bot.chat.questions import next_step
from bot.core.runtime import Runtime
from bot.domain.workflow import OPEN_STATES, State
from bot.outbox.chat import Reply
from bot.outbox.queue import customer_mail, queue_mail
from storage.notify import notify_staff
from storage.repositories import BotTenants
from templates.chat import notice_text, render_customer

CODE_MINUTES = 10


MAX_TRIES = 5  # wrong codes per Telegram account; per contract: chat_limits.CONTRACT_MAX_TRIES


TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


CODE = re.compile(r"^\s*(\d{6})\s*$")


def _hash(code: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(16)
    return f"{salt}${hashlib.sha256((salt + code).encode()).hexdigest()}"


def _code_ok(stored: str | None, code: str) -> bool:
    if not stored or "$" not in stored:
        return False
    return hmac.compare_digest(stored, _hash(code, stored.partition("$")[0]))


def masked(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


async def start(rt: Runtime, inc: Incoming, payload: str) -> list[Reply]:
    """``/start <payload>``: mail a code to the invited address (nothing is shown before).

    Not when the contract's link is closed (too many wrong codes in all), not while this
    account's code is still valid (the same code stays valid: no second mail), and not beyond
    the contract's code mails an hour (chat_limits)."""
    async with rt.db.transaction(tenants=inc.tenants) as s:
        contract = None
        if TOKEN.match(payload):
            # The contract row locked first, in every path: two accounts racing on one contract
            # take turns, so neither limit can be overrun between counting and mailing.
            contract = await BotTenants(s, inc.tenants).lock_contract_by_chat_token(payload)
        if contract is None:
            await record_for_all(s, inc, "chat.customer_unknown_link", {"chat_id": inc.chat_id})
            return [Reply(render_customer("unknown_link", inc.lang))]
        repo = rt.scope(inc.tenants[contract.tenant_id]).repo(s)
        customer = await repo.customer(contract.customer_id)
        rows = await repo.bindings(contract.id)
        closed = await chat_limits.link_closed(repo, contract.id)
        mine = next((b for b in rows if b.telegram_user_id == inc.user_id), None)
        if mine is None:
            mine = await repo.add_binding(
                contract_id=contract.id,
                telegram_user_id=inc.user_id,
                chat_id=inc.chat_id,
                # A new account on a closed link is kept locked: its later messages get the
                # same plain answer, and the row records who tried.
                status="locked" if closed else "pending",
                tries=0,
                step="code",
            )
        c = await load_ctx(s, rt, inc, mine)
        if State(contract.state) not in OPEN_STATES:
            await c.record("chat.customer_expired_link", state=contract.state)
            return [Reply(c.t("expired_link"))]
        other = next(
            (b for b in rows if b.status == "bound" and b.telegram_user_id != inc.user_id), None
        )
        if other is not None:
            return await taken_reply(c)
        if closed and mine.status == "pending":
            mine.status, mine.code_hash, mine.code_expires_at = "locked", None, None
        if mine.status == "locked":
            if closed:
                return await link_closed_reply(c)
            return [Reply(c.t("locked"))]
        mine.chat_id = inc.chat_id
        mine.updated_at = inc.at
        if mine.status == "bound":
            return [Reply(c.t("welcome_back")), *await next_step(c)]
        email_ = masked(customer.email)
        if mine.code_hash and mine.code_expires_at and inc.at < mine.code_expires_at:
            # /start again while the code is valid: the same code still works, so another
            # mail would only fill the customer's inbox (and use up the hourly limit).
            left = math.ceil((mine.code_expires_at - inc.at).total_seconds() / 60)
            await c.record("chat.code_not_resent", telegram_user_id=inc.user_id)
            return [Reply(c.t("code_still_valid", email=email_, minutes=left))]
        window = await chat_limits.code_mails(repo, contract.id)
        if window.full:
            await chat_limits.refuse_code_mail(
                repo, c.slug, contract, customer, inc.user_id, window
            )
            text = c.t(
                "code_limit",
                email=email_,
                limit=chat_limits.CODE_MAILS_PER_HOUR,
                minutes=window.retry_minutes,
            )
            return [Reply(text)]
        code = f"{secrets.randbelow(1_000_000):06d}"
        mine.code_hash = _hash(code)
        mine.code_expires_at = inc.at + dt.timedelta(minutes=CODE_MINUTES)
        tenant = rt.tenant(c.slug)
        version = await repo.version(contract)
        msg = customer_mail(
            tenant, customer, contract, "chat_code", version.fields, code=code, minutes=CODE_MINUTES
        )
        await queue_mail(s, c.slug, repo, contract, msg, "chat_code")
        await c.record("chat.code_sent", telegram_user_id=inc.user_id)
        return [Reply(c.t("code_sent", email=email_, minutes=CODE_MINUTES))]


async def link_closed_reply(c: Ctx) -> list[Reply]:
    """The contract's link is closed: no code, one plain sentence, recorded (staff were told
    once, when it closed)."""
    await c.record("chat.customer_refused", reason="link_closed", telegram_user_id=c.inc.user_id)
    return [Reply(c.t("link_closed", tenant_name=tenant_name(c)))]


async def taken_reply(c: Ctx) -> list[Reply]:
    await c.record("chat.customer_refused", reason="bound_to_another_user")
    params = {
        "user_id": c.inc.user_id,
        "ref": f"{c.slug}-{c.contract.id}",
        "customer": c.customer.name,
    }
    await notify_staff(
        c.s,
        c.repo.tenant_id,
        "chat_refused",
        notice_text("chat_refused", params),
        f"contract:{c.contract.id}",
        params=params,
    )
    return [Reply(c.t("taken"))]


async def enter_code(c: Ctx, text: str) -> list[Reply]:
    b = c.binding
    match = CODE.match(text)
    if match is None:
        return [Reply(c.t("type_code"))]
    if b.code_expires_at is None or c.inc.at > b.code_expires_at:
        await c.record("chat.code_expired")
        return [Reply(c.t("code_expired"))]
    if await c.repo.bound_elsewhere(c.contract.id, b.id):
        return await taken_reply(c)
    if not _code_ok(b.code_hash, match[1]):
        b.tries += 1
        total = await chat_limits.wrong_codes(c.repo, c.contract.id)
        if total >= chat_limits.CONTRACT_MAX_TRIES:
            # Locks every account still binding; staff hear of it once, in place of the
            # per-account notice this last guess would also have caused.
            await chat_limits.close_link(c.repo, c.slug, c.contract, c.customer, c.inc.user_id)
            await c.record("chat.locked", tries=b.tries, telegram_user_id=c.inc.user_id)
            return [Reply(c.t("link_closed", tenant_name=tenant_name(c)))]
        if b.tries >= MAX_TRIES:
            b.status, b.code_hash = "locked", None
            await c.record("chat.locked", tries=b.tries, telegram_user_id=c.inc.user_id)
            params = {
                "tries": b.tries,
                "ref": f"{c.slug}-{c.contract.id}",
                "customer": c.customer.name,
                "user_id": c.inc.user_id,
            }
            await notify_staff(
                c.s,
                c.repo.tenant_id,
                "chat_locked",
                notice_text("chat_locked", params),
                f"contract:{c.contract.id}",
                params=params,
            )
            return [Reply(c.t("locked"))]
        await c.record("chat.code_wrong", tries=b.tries)
        left = min(MAX_TRIES - b.tries, chat_limits.CONTRACT_MAX_TRIES - total)
        return [Reply(c.t("code_wrong", left=left))]
    b.status, b.code_hash, b.code_expires_at = "bound", None, None
    b.bound_at, b.chat_id = c.inc.at, c.inc.chat_id
    await c.record("chat.bound", telegram_user_id=c.inc.user_id, email=c.customer.email)
    tenant = c.rt.tenant(c.slug)
    return [
        Reply(c.t("bound", customer_name=c.customer.name, tenant_name=tenant.name)),
        *await next_step(c),
    ]
