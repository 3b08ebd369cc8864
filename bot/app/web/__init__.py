"""The verification page (``dpabot verify-web``): anyone drops a signed PDF and reads, in plain
words, what ``dpabot verify`` says about it; nothing is stored."""

from bot.app.web.app import WebSettings, create_app

__all__ = ["WebSettings", "create_app"]
