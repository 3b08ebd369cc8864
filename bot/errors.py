"""dpabot's one error root, and whether an error is worth retrying.

Every error dpabot raises on purpose derives from DpabotError and carries one plain sentence
the reader can act on (the httpx habit: a documented hierarchy, foreign errors translated at
the adapters). Each family lives with its package (storage.errors, signing.errors,
templates.TemplateError, bot.transports.errors) and derives from here, so this module sits
below every package and imports nothing of dpabot.

The split the job runner reads: ``TransientError`` is an outage (mail server, TSA, database
away for a moment) and the job is retried with backoff; anything else is permanent and fails
at once (a bad mail is shunted, a bad file refused). ``is_transient`` also knows the foreign
outage types that reach the runner untranslated (the database driver's, the OS's).
"""

from __future__ import annotations


class DpabotError(Exception):
    """Base of every error dpabot reports; ``str(exc)`` is a sentence a person can act on."""


class TransientError(DpabotError):
    """An outage: the same work may succeed later, so jobs are retried with backoff."""


class ConfigError(DpabotError):
    """A configuration file or setting is missing or wrong."""


class WorkflowError(DpabotError):
    """An action does not fit the contract's state."""


def is_transient(exc: BaseException) -> bool:
    """An outage worth retrying (database, network, mail server, TSA), not a fault of the input.

    Database and network errors raised inside a session reach the job runner as the driver
    raised them; they are translated here, at the runner's boundary.
    """
    import psycopg  # the drivers' modules are loaded already whenever this is called
    import sqlalchemy.exc

    if isinstance(exc, TransientError) or getattr(exc, "connection_invalidated", False):
        return True
    return isinstance(
        exc,
        sqlalchemy.exc.OperationalError
        | sqlalchemy.exc.InterfaceError
        | psycopg.OperationalError
        | ConnectionError
        | TimeoutError,
    )
