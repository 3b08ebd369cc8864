"""Secrets out of logs: every log record is scrubbed as it is made, whatever logs it or where to.

A LogRecord factory (not a handler filter) so that it holds for every logger, every level a
user sets (httpx at INFO logs each Bot API URL, and the URL carries the bot token) and every
handler, including ones added after start. It formats the message once, replaces Telegram bot
tokens and every secret dpabot resolved from its configuration (``register``, called by
``SecretRef.resolve``) with ``[redacted]``, and renders an exception's traceback to redacted
text in place of the exception itself (handlers print ``exc_text`` as is).
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.parse
from typing import Any

REDACTED = "[redacted]"
# A Telegram bot token (@BotFather's form: the bot's id, ':', a key), also inside /bot<token>/.
BOT_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
# Shorter values are not secrets worth the name, and replacing them would mangle every line.
MIN_SECRET = 4

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None
_previous: Any = None


def register(value: str) -> str:
    """Remember a secret so no log record carries it (nor its URL-quoted form); returns it."""
    global _pattern
    install()
    forms = {value, urllib.parse.quote(value, safe="")} if len(value) >= MIN_SECRET else set()
    if forms - _secrets:
        with _lock:
            _secrets.update(forms)
            # Longest first: a secret that contains another is replaced whole.
            ordered = sorted(_secrets, key=len, reverse=True)
            _pattern = re.compile("|".join(re.escape(s) for s in ordered))
    return value


def redact(text: str) -> str:
    """The text with every registered secret and every bot token replaced by [redacted]."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    return BOT_TOKEN.sub(REDACTED, text)


def install() -> None:
    """Scrub every log record made from now on in this process (idempotent)."""
    global _previous
    with _lock:
        if logging.getLogRecordFactory() is _make_record:
            return
        _previous = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_make_record)


def _make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record: logging.LogRecord = _previous(*args, **kwargs)
    try:
        scrub(record)
    except Exception:  # never let a secret through because scrubbing failed
        record.msg, record.args = "[log message withheld: it could not be redacted]", ()
        record.exc_info, record.exc_text, record.stack_info = None, None, None
    return record


def scrub(record: logging.LogRecord) -> None:
    """Redact a record in place: its message (args merged in), traceback and stack."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what was given, as logging would show it
        message = f"{record.msg!r} % {record.args!r}"
    record.msg, record.args = redact(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        # Rendered now, redacted, and the exception dropped: a handler printing exc_info
        # itself would print the secret in an exception's message or a local's repr.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
