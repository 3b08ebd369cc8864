"""Telegram Bot API adapter: one python-telegram-bot Application per bot token.

Telegram's own servers by default; ``[telegram] base_url`` in dpabot.toml points at a local
Bot API server or the tests' stand-in (tests/fixtures/botapi.py), which is this transport's
local twin. Every request goes through PTB's AIORateLimiter: about 30 messages a second per
bot, 20 a minute per group chat, and a RetryAfter (HTTP 429) halts sending for the time
Telegram asks, then the request is retried (``MAX_RETRIES`` times).
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults

from bot.transports.errors import TransportError

MAX_MESSAGE = 4096  # Telegram's limit on a message's text, in characters
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes of an inline button's callback data
MAX_UPLOAD = 50 * 1024 * 1024  # what a bot may send as a document (Telegram's servers)
MAX_RETRIES = 5

# httpx logs every request at INFO (each long poll too): noise, unless a user asks for it.
# The bot token in those URLs is redacted whatever the level (bot/redact.py).
_httpx_log = logging.getLogger("httpx")
if _httpx_log.level == logging.NOTSET:
    _httpx_log.setLevel(logging.WARNING)

Buttons = list[list[tuple[str, str]]]  # rows of (label, callback data)


class ChatSendError(TransportError):
    """Telegram refused or could not be reached for a message; the caller keeps it to retry."""


def build_application(
    token: str, *, base_url: str | None = None, base_file_url: str | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    """An Application for one token, rate limited, pointed at a Bot API server (default:
    Telegram's own)."""
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        Application.builder()
        .token(token)
        .rate_limiter(AIORateLimiter(max_retries=MAX_RETRIES))
        # Plain text everywhere (no parse mode: customer text cannot become markup), no previews.
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
    )
    if base_url:
        builder = builder.base_url(base_url)
    if base_file_url:
        builder = builder.base_file_url(base_file_url)
    return builder.build()


def keyboard(buttons: Buttons | None) -> InlineKeyboardMarkup | None:
    """Inline buttons from rows of (label, callback data)."""
    if not buttons:
        return None
    for row in buttons:
        for _, data in row:
            if len(data.encode()) > MAX_CALLBACK_DATA:
                raise ValueError(
                    f"Callback data {data!r} is longer than Telegram's {MAX_CALLBACK_DATA} bytes."
                )
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in buttons
        ]
    )


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line ends where possible."""
    text = text.strip("\n")
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip("\n"))
        text = text[cut:].lstrip("\n")
    if text or not pieces:
        pieces.append(text)
    return pieces


async def send_text(
    bot: Any, chat_id: int, text: str, buttons: Buttons | None = None
) -> list[Message]:
    """Send plain text, split when longer than Telegram allows (buttons on the last piece)."""
    sent = []
    pieces = split_text(text)
    try:
        for n, piece in enumerate(pieces):
            markup = keyboard(buttons) if n == len(pieces) - 1 else None
            sent.append(await bot.send_message(chat_id, piece, reply_markup=markup))
    except TelegramError as exc:
        raise ChatSendError(
            f"Telegram did not take a message for chat {chat_id} ({type(exc).__name__}: {exc})."
        ) from exc
    return sent
