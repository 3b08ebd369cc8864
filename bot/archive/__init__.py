"""bot.archive."""
