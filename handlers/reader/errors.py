"""The reader's one error: whatever goes wrong inside it reaches the caller as this."""

from bot.errors import DpabotError


class ReaderError(DpabotError):
    """A reply could not be read at all (the mail is kept and set aside, never dropped)."""
