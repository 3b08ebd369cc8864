"""Storage errors, each with a sentence a user can act on."""


class StorageError(Exception):
    """The database or archive could not be used."""


class NotFound(StorageError):
    """A row does not exist for this tenant (or at all: the caller cannot tell)."""
