"""What the delivery loops need of the Telegram runner: the bots and the tenants each serves.

The runner (bot.app.telegram.StaffChat) builds the python-telegram-bot Applications; delivery
only sends through them, so it depends on this shape, not on the runner.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from bot.core.runtime import Runtime


class ChatBot(Protocol):
    """One token's Application (``app.bot`` sends) and the tenants it serves."""

    @property
    def app(self) -> Any: ...

    @property
    def slugs(self) -> tuple[str, ...]: ...


class ChatBots(Protocol):
    """Every bot of the running service, by token, and which one serves a tenant."""

    @property
    def rt(self) -> Runtime: ...

    @property
    def bots(self) -> Mapping[str, ChatBot]: ...

    def bot_for(self, slug: str) -> ChatBot: ...
