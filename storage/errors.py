"""Storage errors, each with a sentence a user can act on."""

from bot.errors import DpabotError, TransientError


class StorageError(DpabotError):
    """The database or archive could not be used."""


class StorageUnavailable(StorageError, TransientError):
    """The object store or the database could not be reached: try again later."""


class NotFound(StorageError):
    """A row does not exist for this tenant (or at all: the caller cannot tell)."""


class BlobError(StorageError):
    """An archive blob cannot be stored or read, or is not the caller's (another tenant's)."""


class BlobMissing(BlobError):
    """No blob exists under that locator."""


class BlobCorrupt(BlobError):
    """A blob's bytes differ from the SHA-256 recorded when it was stored: changed since."""


class BlobConflict(BlobError):
    """Write-once: a blob already exists under that name with other bytes."""
