"""bot.outbox."""
