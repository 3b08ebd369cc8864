"""Errors raised by the mail transports, with messages a person can act on."""

from bot.errors import TransientError


class TransportError(TransientError):
    """A mail server could not be reached or refused what we asked.

    Adapters raise it ``from`` the foreign exception, so the cause stays in the traceback
    while callers only ever catch this one type. ``permanent``: the server refused for good
    (an SMTP 5xx answer): trying again will not help. Anything else (4xx, a cut connection, a
    timeout) may pass on a later attempt.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
