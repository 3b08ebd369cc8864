"""Deliver staff notifications (storage/notify.py) to each tenant's staff_chat_id.

One notification at a time, oldest first, each in its own transaction: its row is locked,
``attempts`` counted, the message sent, then ``delivered_at`` set. A failed send leaves it
undelivered (the attempt counted) and ends the tenant's round; the next round tries again, so
none is ever lost (one may be sent twice if the database fails right after Telegram took it).
A grouped notice (a flood of mail from strangers, storage/notify.py) is sent with the count it has
when its turn comes; one held to the end of its window (``deliver_after``) waits till then.
With ``digest = true``, ``completed`` notifications wait for the daily digest at
``digest_hour`` (UTC): one message listing every one that came in before that hour.
Each is worded at delivery in the tenant's staff chat language from its kind and values
(``params``); a row without them (older ones), of a kind without a template, or whose values
do not fit the template, is sent with its stored English text.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from bot.chat.bots import ChatBots
from bot.chat.language import chat_language
from bot.core.settings import TelegramSettings
from bot.transports.telegram import ChatSendError, send_text
from storage.models import Notification
from storage.notify import SENDERS_LISTED, SENDERS_PER_WINDOW
from templates.chat import render_staff, staff_notice

if TYPE_CHECKING:
    from bot.core.runtime import Runtime

log = logging.getLogger("dpabot.chat")
DIGEST_KINDS = ("completed",)


async def deliver_once(chat: ChatBots, now: dt.datetime | None = None) -> int:
    """One round over every tenant with a staff chat; returns the notifications delivered."""
    now = now or dt.datetime.now(dt.UTC)
    delivered = 0
    for slug, tenant in chat.rt.tenants.items():
        cfg = tenant.telegram
        if cfg is None or cfg.staff_chat_id is None:
            continue
        bot = chat.bot_for(slug).app.bot
        delivered += await _each(chat.rt, slug, cfg, bot, now)
        if cfg.digest:
            delivered += await _digest(chat.rt, slug, cfg, bot, now)
    return delivered


def words(note: Notification, lang: str) -> str:
    """The notice in the staff chat's language, or its stored text."""
    if not isinstance(note.params, dict):
        return note.text
    group = _group(note) if note.dedupe_key and note.window_start is not None else None
    return staff_notice(note.kind, lang, note.params, group) or note.text


def _group(note: Notification) -> dict[str, Any]:
    """A grouped notice's counts as its row has them now (storage/notify.py)."""
    assert note.window_start is not None and note.dedupe_key is not None
    _, marker, sender = note.dedupe_key.partition(f"{note.kind}|from|")
    return {
        "sender": sender if marker else None,
        "count": note.count,
        "senders": 1 if marker else len(note.senders or []),
        "part": note.part or 1,
        "since": note.window_start.astimezone(dt.UTC),
        "until": note.deliver_after.astimezone(dt.UTC) if note.deliver_after else None,
        "limit": SENDERS_PER_WINDOW,
        "listed": SENDERS_LISTED,
    }


def digest_cutoff(now: dt.datetime, hour: int) -> dt.datetime:
    """The latest digest time (hour:00 UTC) at or before now."""
    cutoff = now.astimezone(dt.UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return cutoff if cutoff <= now else cutoff - dt.timedelta(days=1)


async def _each(rt: Runtime, slug: str, cfg: TelegramSettings, bot: Any, now: dt.datetime) -> int:
    assert cfg.staff_chat_id is not None
    tenant = rt.scope(slug)
    lang = chat_language(tenant.settings)
    done = 0
    while True:
        async with rt.db.transaction(tenants=[tenant.id]) as s:
            held = DIGEST_KINDS if cfg.digest else ()
            note = await tenant.repo(s).next_notification(now, held=held)
            if note is None:
                return done
            note.attempts = (note.attempts or 0) + 1
            try:
                text = render_staff("notification", lang, note=note, text=words(note, lang))
                await send_text(bot, cfg.staff_chat_id, text)
            except ChatSendError as exc:
                log.warning(
                    "staff chat: notification %s of %s not delivered (attempt %d): %s",
                    note.id,
                    slug,
                    note.attempts,
                    exc,
                )
                return done  # the transaction commits the attempt; the row stays undelivered
            note.delivered_at = now
            done += 1


async def _digest(rt: Runtime, slug: str, cfg: TelegramSettings, bot: Any, now: dt.datetime) -> int:
    assert cfg.staff_chat_id is not None
    cutoff = digest_cutoff(now, cfg.digest_hour)
    tenant = rt.scope(slug)
    lang = chat_language(tenant.settings)
    async with rt.db.transaction(tenants=[tenant.id]) as s:
        notes = await tenant.repo(s).digest_notifications(DIGEST_KINDS, before=cutoff)
        if not notes:
            return 0
        for note in notes:
            note.attempts = (note.attempts or 0) + 1
        try:
            texts = [words(note, lang) for note in notes]
            await send_text(bot, cfg.staff_chat_id, render_staff("digest", lang, texts=texts))
        except ChatSendError as exc:
            log.warning("staff chat: the digest of %s was not delivered: %s", slug, exc)
            return 0
        for note in notes:
            note.delivered_at = now
        return len(notes)
