"""One customer update from Telegram, as the chat logic needs it and keeps it as evidence."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Incoming:
    """One Telegram update as the customer flow needs it, and keeps as evidence."""

    tenants: dict[int, str]  # id → slug of the tenants this bot (token) serves
    user_id: int
    chat_id: int
    message_id: int
    update_id: int
    lang: str  # the Telegram app's language: for texts before we know the customer
    update: dict[str, Any] = field(default_factory=dict)
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def evidence(self, email_: str | None = None) -> bytes:
        """The update with who, where and when, as stored (the acceptance's evidence)."""
        body = {
            "channel": "telegram",
            "telegram_user_id": self.user_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "update_id": self.update_id,
            "received_at": self.at.isoformat(),
            "bound_email": email_,
            "update": self.update,
        }
        return json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
