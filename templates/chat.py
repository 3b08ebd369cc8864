"""Staff chat texts (Jinja2, plain text): ``templates/chat/<name>.txt.j2``.

The bot sends plain text (no parse mode), so nothing a customer wrote can turn into markup;
templates are therefore not autoescaped. Undefined variables raise (StrictUndefined).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

CHAT_DIR = Path(__file__).parent / "chat"


def age(delta: dt.timedelta) -> str:
    """A duration in words staff read at a glance: 3 d 4 h, 5 h 10 min, 2 min."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


@cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(CHAT_DIR),
        undefined=StrictUndefined,
        autoescape=False,  # plain text to Telegram: no parse mode, nothing to escape
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["age"] = age
    return env


def render_chat(template: str, /, **context: Any) -> str:
    """The text of ``templates/chat/<template>.txt.j2`` with the context."""
    return _env().get_template(f"{template}.txt.j2").render(**context).strip("\n")


CUSTOMER_LANGUAGES = ("nl", "fr", "en")


def render_customer(template: str, lang: str, /, **context: Any) -> str:
    """A customer's chat text: ``templates/chat/customer/<lang>/<template>.txt.j2`` (Dutch
    when the language is not one dpabot writes)."""
    lang = lang if lang in CUSTOMER_LANGUAGES else "nl"
    return render_chat(f"customer/{lang}/{template}", **context)
