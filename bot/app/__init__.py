"""bot.app."""
