"""Staff chat command handlers (Telegram): registry, context, and the built-in commands.

Every module in this package whose name does not start with ``_`` is imported, so a command
is added by dropping a module here that uses ``@command`` / ``@callback`` / ``@upload``.
"""

from __future__ import annotations

import importlib
import pkgutil

from bot.chat.access import Access, Directory
from handlers.staff._context import StaffContext
from handlers.staff._dispatch import BotState, install, on_error
from handlers.staff._registry import (
    ADMIN,
    REGISTRY,
    STAFF,
    Callback,
    Command,
    Registry,
    Upload,
    callback,
    command,
    upload,
)

__all__ = [
    "ADMIN",
    "REGISTRY",
    "STAFF",
    "Access",
    "BotState",
    "Callback",
    "Command",
    "Directory",
    "Registry",
    "StaffContext",
    "Upload",
    "callback",
    "command",
    "install",
    "on_error",
    "upload",
]

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
