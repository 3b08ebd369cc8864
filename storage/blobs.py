"""Write-once, content-addressed file store for signed PDFs and manifests."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileBlobStore:
    """Blobs under root/<tenant>/<yyyy>/<sha256><suffix>; never overwritten, read-only on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, tenant: str, year: int, data: bytes, suffix: str) -> Path:
        digest = sha256_hex(data)
        folder = self.root / tenant / f"{year:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{digest}{suffix}"
        if final.exists():
            if sha256_hex(final.read_bytes()) != digest:
                raise OSError(f"The archive file {final} does not match its name: check the disk.")
            return final
        return self._write(folder, final, data)

    def put_beside(self, blob: Path, suffix: str, data: bytes) -> Path:
        """A file named after another blob (e.g. <manifest sha>.tsr: the token proving it)."""
        final = blob.with_suffix(suffix)
        if not final.resolve().is_relative_to(self.root.resolve()):
            raise PermissionError(f"{final} is outside the archive.")
        if final.exists():
            return final
        return self._write(final.parent, final, data)

    def holds(self, path: str | Path) -> bool:
        return Path(path).resolve().is_relative_to(self.root.resolve())

    def remove(self, path: str | Path) -> None:
        """Delete one blob (retention): read-only on disk, so the folder permits it."""
        p = Path(path).resolve()
        if not p.is_relative_to(self.root.resolve()):
            raise PermissionError(f"{p} is outside the archive.")
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

    def get(self, path: str | Path) -> bytes:
        p = Path(path)
        resolved = p.resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise PermissionError(f"{p} is outside the archive.")
        return resolved.read_bytes()
