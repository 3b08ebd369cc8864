"""The error of document templates, shared by the registry, rendering and the importer."""

from __future__ import annotations

from bot.errors import DpabotError


class TemplateError(DpabotError):
    """A template cannot be found, loaded, imported or rendered; the message is one sentence."""
