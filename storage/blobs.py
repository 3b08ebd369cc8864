"""Write-once, content-addressed blob stores: the BlobStore interface and the file store."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from storage.errors import BlobConflict, BlobCorrupt, BlobError, BlobMissing

# Tenant slugs (bot.settings) name the top folder or key prefix: nothing else may.
_TENANT = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
T = TypeVar("T")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_tenant(tenant: str) -> str:
    if not _TENANT.match(tenant):
        raise BlobError(f"{tenant!r} is not a tenant slug; blobs are kept under tenant slugs.")
    return tenant


def locator_name(locator: str) -> str:
    """The last part of a locator (<sha256><suffix>), whichever store made it."""
    return locator.rstrip("/").rsplit("/", 1)[-1]


class BlobStore(Protocol):
    """Where archived files live. A locator is the string the database keeps: an absolute
    path for the file store (so rows written before this interface still work), or
    s3://bucket/<tenant>/<yyyy>/<sha256><suffix> for the S3 store.

    Blobs are written once: storing the same bytes again is a no-op, other bytes under an
    existing name are refused (BlobConflict). Errors are storage.errors.BlobError sentences.
    """

    def holds(self, locator: str) -> bool:
        """Whether the locator points into this store (not whether the blob exists)."""
        ...

    async def async_check(self) -> None:
        """Raise BlobError with the fix when the store cannot be used (checked at start)."""
        ...

    async def async_put(self, tenant: str, year: int, data: bytes, suffix: str) -> str:
        """Store data as <tenant>/<yyyy>/<sha256><suffix>; returns its locator."""
        ...

    async def async_put_beside(self, locator: str, suffix: str, data: bytes) -> str:
        """Store data named after another blob (<manifest sha256>.tsr: the token proving it)."""
        ...

    async def async_get(self, locator: str, *, tenant: str | None = None) -> bytes:
        """The blob's bytes; with a tenant, a locator of another tenant is refused. The S3
        store checks them against their sha256 metadata (BlobCorrupt); file names are the
        file store's record, checked by bot.archive.verify_entry."""
        ...

    async def async_remove(self, locator: str) -> None:
        """Delete one blob (retention); a missing blob is fine."""
        ...

    def async_walk(self, tenant: str) -> AsyncIterator[tuple[str, str]]:
        """Every blob of one tenant as (name below the tenant, e.g. 2026/<sha>.pdf, locator)."""
        ...


class FileBlobStore:
    """Blobs under root/<tenant>/<yyyy>/<sha256><suffix>; never overwritten, read-only on disk.

    The sync methods take and return paths, as before the BlobStore interface (callers of
    rt.blobs still use them); the async_* twins are that interface and do the file work in a
    worker thread."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, tenant: str, year: int, data: bytes, suffix: str) -> Path:
        digest = sha256_hex(data)
        folder = self.root / check_tenant(tenant) / f"{year:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{digest}{suffix}"
        if final.exists():
            if sha256_hex(final.read_bytes()) != digest:
                raise BlobCorrupt(
                    f"The archive file {final} does not match its name: check the disk."
                )
            return final
        return self._write(folder, final, data)

    def put_beside(self, blob: str | Path, suffix: str, data: bytes) -> Path:
        """A file named after another blob (e.g. <manifest sha>.tsr: the token proving it)."""
        final = Path(blob).with_suffix(suffix)
        if not final.resolve().is_relative_to(self.root.resolve()):
            raise BlobError(f"{final} is outside the archive.")
        if final.exists():
            if final.read_bytes() != data:
                raise BlobConflict(
                    f"The archive file {final} already exists with other content; "
                    "archive files are never overwritten."
                )
            return final
        return self._write(final.parent, final, data)

    def holds(self, path: str | Path) -> bool:
        return Path(path).resolve().is_relative_to(self.root.resolve())

    def remove(self, path: str | Path) -> None:
        """Delete one blob (retention): read-only on disk, so the folder permits it."""
        p = Path(path).resolve()
        if not p.is_relative_to(self.root.resolve()):
            raise BlobError(f"{p} is outside the archive.")
        p.unlink(missing_ok=True)

    def _write(self, folder: Path, final: Path, data: bytes) -> Path:
        # Temp file in the same folder, fsync, rename: a crash leaves either nothing or the
        # whole file, never half of one.
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o444)
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return final

    def get(self, path: str | Path, *, tenant: str | None = None) -> bytes:
        p = Path(path)
        resolved = p.resolve()
        top = self.root if tenant is None else self.root / check_tenant(tenant)
        if not resolved.is_relative_to(top.resolve()):
            where = "the archive" if tenant is None else f"tenant {tenant}'s archive"
            raise BlobError(f"{p} is outside {where}.")
        try:
            return resolved.read_bytes()
        except FileNotFoundError as exc:
            raise BlobMissing(f"The archive file {p} does not exist.") from exc
        except OSError as exc:
            raise BlobError(f"The archive file {p} cannot be read ({exc.strerror}).") from exc

    def walk(self, tenant: str) -> list[tuple[str, str]]:
        folder = self.root / check_tenant(tenant)
        files = folder.rglob("*") if folder.is_dir() else iter(())
        return [
            (p.relative_to(folder).as_posix(), str(p))
            for p in sorted(files)
            # Dot files are half-written temp files of a running store.
            if p.is_file() and not p.name.startswith(".")
        ]

    # --- the BlobStore interface -------------------------------------------------------------

    async def async_check(self) -> None:
        try:
            await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            raise BlobError(f"The archive folder {self.root} cannot be made ({exc}).") from exc

    async def async_put(self, tenant: str, year: int, data: bytes, suffix: str) -> str:
        return str(await _in_thread(self.put, tenant, year, data, suffix))

    async def async_put_beside(self, locator: str, suffix: str, data: bytes) -> str:
        return str(await _in_thread(self.put_beside, locator, suffix, data))

    async def async_get(self, locator: str, *, tenant: str | None = None) -> bytes:
        return await _in_thread(self.get, locator, tenant=tenant)

    async def async_remove(self, locator: str) -> None:
        await _in_thread(self.remove, locator)

    async def async_walk(self, tenant: str) -> AsyncIterator[tuple[str, str]]:
        for item in await asyncio.to_thread(self.walk, tenant):
            yield item


async def _in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """fn in a worker thread, its OS errors (disk full, permissions) told as BlobError."""
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except OSError as exc:
        raise BlobError(f"The archive folder cannot be used ({exc}).") from exc
