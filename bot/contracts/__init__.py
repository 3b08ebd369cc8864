"""bot.contracts."""
