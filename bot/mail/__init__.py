"""bot.mail."""
