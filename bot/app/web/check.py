"""Checking one uploaded PDF: the same validation as ``dpabot verify``, in a worker process
with a time and memory limit, so a crafted file (a PDF bomb) cannot stall or swell the page.

The worker gets the bytes through a pipe and keeps nothing; a worker stuck past the timeout is
killed with its pool and a new one starts for the next upload.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

__all__ = ["CheckResult", "Checker", "check_sync", "sniff"]

log = logging.getLogger(__name__)

# A PDF's header may follow some junk, but within its first kilobyte (ISO 32000-1, 7.5.2 notes).
_HEADER_WINDOW = 1024


@dataclass
class CheckResult:
    """What the page reports: a refusal (``problem`` is its reason key), or the CLI's report."""

    sha256: str
    problem: str | None = None
    report: dict[str, Any] | None = None  # signing.ValidationReport.to_dict(): `verify --json`


def sniff(pdf: bytes) -> str | None:
    """A reason key when the bytes are plainly no PDF; None when they may be one."""
    if b"%PDF-" not in pdf[:_HEADER_WINDOW]:
        return "not_pdf"
    return None


def check_sync(pdf: bytes, root_ders: list[bytes]) -> tuple[str | None, dict[str, Any] | None]:
    """Runs in the worker: (reason, None) for a file it refuses (encrypted, unreadable,
    too_complex), else (None, report)."""
    # Imported in the worker that runs it: pyHanko's import is the worker's, not the page's.
    from io import BytesIO

    from asn1crypto import x509
    from pyhanko.pdf_utils.misc import PdfDecodeLimitError
    from pyhanko.pdf_utils.reader import PdfFileReader

    from signing import validate_pdf_sync

    try:
        if PdfFileReader(BytesIO(pdf), strict=False).encrypted:
            return "encrypted", None
    except (MemoryError, PdfDecodeLimitError):  # a stream that inflates past the limits
        return "too_complex", None
    except Exception:  # pyHanko raises many types on a malformed file
        return "unreadable", None
    roots = [x509.Certificate.load(der) for der in root_ders]
    try:
        report = validate_pdf_sync(pdf, roots)
    except MemoryError:
        return "too_complex", None
    if report.error and not report.signatures and "could not be read" in report.error:
        return "unreadable", None
    return None, report.to_dict()


def _warm_up() -> None:
    """Import pyHanko in the worker once, before the first upload waits for it."""
    import signing  # noqa: F401


def _limit_memory(max_bytes: int) -> None:
    # A decompression bomb raises MemoryError in the worker instead of taking the machine.
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))


class Checker:
    """One worker process (spawned, memory-capped) that validates uploads one at a time."""

    def __init__(self, root_ders: list[bytes], *, timeout: float, max_memory: int) -> None:
        self.root_ders = root_ders
        self.timeout = timeout
        self.max_memory = max_memory
        self._pool: ProcessPoolExecutor | None = None
        self._busy = asyncio.Semaphore(1)  # the timeout counts a file's own run, not a queue

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the page's process runs threads (uvicorn, the database driver).
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_limit_memory,
                initargs=(self.max_memory,),
            )
        return self._pool

    def warm_up(self) -> None:
        """Start the worker now (spawn and imports take seconds), not at the first upload."""
        self._executor().submit(_warm_up)

    def _kill(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._kill()

    async def check(self, pdf: bytes) -> CheckResult:
        result = CheckResult(sha256=hashlib.sha256(pdf).hexdigest())
        if (problem := sniff(pdf)) is not None:
            result.problem = problem
            return result
        loop = asyncio.get_running_loop()
        async with self._busy:
            future = loop.run_in_executor(self._executor(), check_sync, pdf, self.root_ders)
            try:
                result.problem, result.report = await asyncio.wait_for(future, self.timeout)
            except TimeoutError:
                self._kill()  # a worker cannot be cancelled, only killed
                result.problem = "too_complex"
            except (BrokenProcessPool, MemoryError):
                self._kill()  # the worker died or ran out of its memory: a bomb
                result.problem = "too_complex"
            except Exception:  # anything else pyHanko raises on a malformed file
                log.info("An upload could not be checked.", exc_info=True)
                result.problem = "unreadable"
        return result
