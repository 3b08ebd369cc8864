"""Deliver queued customer chat messages (staff decisions, final PDF, signed copy).

Like staff notifications (bot/chat_notify.py): oldest first, one per transaction, its row
locked, ``attempts`` counted, then ``delivered_at`` set; a failed send stays queued for the
next round, so a restart or a Telegram outage loses nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from telegram.error import TelegramError

from bot.chat.bots import ChatBots
from bot.transports.telegram import keyboard
from storage.repositories import BotTenants

log = logging.getLogger("dpabot.chat.customer")


async def deliver_once(chat: ChatBots) -> int:
    """One round over every bot; returns the messages delivered."""
    done = 0
    for bot in chat.bots.values():
        tenant_ids = [chat.rt.scope(s).id for s in bot.slugs]
        done += await _each(chat, bot.app.bot, tenant_ids)
    return done


async def _each(chat: ChatBots, bot: Any, tenant_ids: list[int]) -> int:
    done = 0
    while True:
        async with chat.rt.db.transaction(tenants=tenant_ids) as s:
            # One queue for every tenant of the bot: whichever message is oldest goes first.
            row = await BotTenants(s, tenant_ids).next_chat_message()
            if row is None:
                return done
            row.attempts = (row.attempts or 0) + 1
            buttons = [[(b[0], b[1]) for b in r] for r in row.buttons] if row.buttons else None
            try:
                if row.document_path:
                    data = chat.rt.blobs.get(row.document_path)
                    await bot.send_document(
                        row.chat_id, document=data, filename=row.filename or "document.pdf"
                    )
                await bot.send_message(row.chat_id, row.text, reply_markup=keyboard(buttons))
            except TelegramError as exc:
                log.warning(
                    "customer chat: message %s not delivered (attempt %d): %s",
                    row.id,
                    row.attempts,
                    exc,
                )
                return done
            row.delivered_at = dt.datetime.now(dt.UTC)
            done += 1
