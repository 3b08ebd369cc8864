"""Customer chat handlers (Telegram): routing before the staff handlers, flood limit, glue.

The tenant's staff bot is also its customers' bot. A private chat from someone on no staff
allowlist of this bot goes here when they send ``/start <payload>`` or have a binding already;
anyone else falls through to the staff handlers (and their single refusal). The logic lives
in bot/customer_chat.py; this module only turns updates into calls and replies into messages.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, CallbackContext, TypeHandler

from bot import chat as customer_chat
from bot.chat import Incoming, Reply
from bot.chat.access import Directory
from bot.core.runtime import Runtime
from bot.transports.telegram import keyboard, send_text
from storage import audit
from templates.chat import render_customer

log = logging.getLogger("dpabot.chat.customer")
STATE_KEY = "dpabot.customers"
# Per chat: at most FLOOD_MAX messages in FLOOD_WINDOW seconds; more are answered once.
FLOOD_MAX = 20
FLOOD_WINDOW = 60.0
Context = CallbackContext[Any, Any, Any, Any]


@dataclass
class CustomerState:
    """What the customer handlers of one bot share."""

    rt: Runtime
    directory: Directory
    flood_max: int = FLOOD_MAX
    flood_window: float = FLOOD_WINDOW
    seen: dict[int, deque[float]] = field(default_factory=dict)  # chat → recent times
    warned: dict[int, float] = field(default_factory=dict)  # chat → when told to slow down

    @property
    def tenants(self) -> dict[int, str]:
        return {t.id: t.slug for t in map(self.rt.scope, self.directory.slugs)}

    def is_staff(self, user_id: int) -> bool:
        return any(user_id in self.directory.staff[s] for s in self.directory.slugs)

    def flooding(self, chat_id: int, now: float) -> bool:
        times = self.seen.setdefault(chat_id, deque())
        while times and now - times[0] > self.flood_window:
            times.popleft()
        times.append(now)
        return len(times) > self.flood_max


def install(
    app: Application[Any, Any, Any, Any, Any, Any], rt: Runtime, directory: Directory
) -> None:
    """Route customers' updates ahead of the staff handlers (group -1)."""
    app.bot_data[STATE_KEY] = CustomerState(rt, directory)
    app.add_handler(TypeHandler(Update, _route), group=-1)


def _incoming(state: CustomerState, update: Update) -> Incoming:
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    message = update.effective_message
    return Incoming(
        tenants=state.tenants,
        user_id=user.id,
        chat_id=chat.id,
        message_id=message.message_id if message is not None else 0,
        update_id=update.update_id,
        lang=(user.language_code or "nl")[:2],
        update=update.to_dict(),
    )


async def _route(update: Update, context: Context) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or user.is_bot or chat.type != "private":
        return
    state: CustomerState = context.bot_data[STATE_KEY]
    if state.is_staff(user.id):
        return  # staff: the staff handlers
    message = update.message
    text = (message.text or "") if message is not None else ""
    words = text.split()
    starting = bool(words) and words[0].partition("@")[0] == "/start" and len(words) > 1
    if not starting and not await customer_chat.is_customer(state.rt, state.tenants, user.id):
        return  # a stranger: the staff handlers refuse them once
    inc = _incoming(state, update)
    if state.flooding(chat.id, time.monotonic()):
        await _flood(state, context, inc)
        raise ApplicationHandlerStop
    state.warned.pop(chat.id, None)
    replies = await _handle(state, update, context, inc, words if starting else None)
    await _send(context, chat.id, replies)
    raise ApplicationHandlerStop


async def _handle(
    state: CustomerState,
    update: Update,
    context: Context,
    inc: Incoming,
    start: list[str] | None,
) -> list[Reply]:
    rt = state.rt
    if start is not None:
        return await customer_chat.start(rt, inc, start[1])
    query = update.callback_query
    if query is not None:
        await query.answer()
        return await customer_chat.on_button(rt, inc, query.data or "")
    message = update.message
    if message is None:
        return []  # an edit: never a second answer
    if message.document is not None:
        doc = message.document

        async def fetch() -> bytes:
            file = await context.bot.get_file(doc.file_id)
            return bytes(await file.download_as_bytearray())

        return await customer_chat.on_document(
            rt,
            inc,
            filename=doc.file_name or "",
            mime=doc.mime_type or "",
            size=doc.file_size or 0,
            fetch=fetch,
        )
    text = message.text or ""
    if text.split()[:1] == ["/status"]:
        return await customer_chat.status(rt, inc)
    if text.startswith("/"):
        return await customer_chat.status(rt, inc)  # /start, /help: where things stand
    if not text.strip():
        return [Reply(render_customer("not_pdf", inc.lang))]  # a photo, a sticker, …
    return await customer_chat.on_text(rt, inc, text)


async def _flood(state: CustomerState, context: Context, inc: Incoming) -> None:
    """Too many messages: told once per window, recorded once, nothing read."""
    now = time.monotonic()
    if now - state.warned.get(inc.chat_id, -1e9) < state.flood_window:
        return
    state.warned[inc.chat_id] = now
    async with state.rt.db.transaction(tenants=inc.tenants) as s:
        b = await customer_chat.binding_of(s, inc.tenants, inc.user_id)
        tenant_ids = [b.tenant_id] if b is not None else list(inc.tenants)
        for tid in tenant_ids:
            await audit.record(
                s,
                tid,
                f"telegram:{inc.user_id}",
                "chat.customer_flood",
                f"contract:{b.contract_id}" if b is not None else f"telegram:{inc.user_id}",
                {"chat_id": inc.chat_id, "limit": state.flood_max, "window": state.flood_window},
            )
    await context.bot.send_message(inc.chat_id, render_customer("flood", inc.lang))


async def _send(context: Context, chat_id: int, replies: list[Reply]) -> None:
    for reply in replies:
        if reply.document is not None:
            name, data = reply.document
            await context.bot.send_document(chat_id, document=data, filename=name)
        if len(reply.text) <= 4096:
            await context.bot.send_message(
                chat_id, reply.text, reply_markup=keyboard(reply.buttons)
            )
        else:
            await send_text(context.bot, chat_id, reply.text, reply.buttons)
