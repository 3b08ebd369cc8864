"""The archive's store as configured: files under DATA_DIR/archive, or an S3-compatible bucket.

Apart from the runtime so that the archive commands import only this.
"""

from __future__ import annotations

from bot.core.settings import ServiceSettings
from bot.errors import ConfigError
from storage.blobs import BlobStore, FileBlobStore
from storage.s3 import S3BlobStore


def archive_store(settings: ServiceSettings) -> BlobStore:
    """The [archive] store: files under <data_dir>/archive, or an S3-compatible bucket."""
    a = settings.archive
    if a.store == "file":
        return FileBlobStore(settings.data_dir / "archive")
    missing = [k for k in ("bucket", "access_key_id", "secret_access_key") if getattr(a, k) is None]
    if missing:
        raise ConfigError(
            f"The [archive] store 's3' needs {', '.join(repr(k) for k in missing)} in dpabot.toml."
        )
    assert a.bucket and a.access_key_id and a.secret_access_key
    return S3BlobStore(
        bucket=a.bucket,
        endpoint_url=a.endpoint_url,
        region=a.region,
        access_key_id=a.access_key_id.resolve("[archive] S3 access key id"),
        secret_access_key=a.secret_access_key.resolve("[archive] S3 secret access key"),
        addressing_style=a.addressing_style,
    )
