"""Exceptions raised by the signing package, each with a sentence a user can act on."""

from __future__ import annotations

from bot.errors import DpabotError, TransientError


class SigningError(DpabotError):
    """Base class: ``str(exc)`` is a plain sentence suitable for staff or the CLI."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TimestampError(SigningError, TransientError):
    """The timestamp authority could not be reached or answered badly.

    The contract must wait and be retried: we never fall back to the local clock.
    """


class ValidationError(SigningError):
    """Validation data could not be gathered or a signature could not be checked."""
