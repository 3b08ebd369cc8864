"""Errors raised by the mail transports, with messages a person can act on."""

from bot.errors import TransientError


class TransportError(TransientError):
    """A mail server could not be reached or refused what we asked.

    Adapters raise it ``from`` the foreign exception, so the cause stays in the traceback
    while callers only ever catch this one type.
    """
