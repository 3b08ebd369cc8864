"""CPU-heavy work off the event loop: Typst renders in a process pool, signing in a thread."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import DpabotError

T = TypeVar("T")
_pool: ProcessPoolExecutor | None = None
_pool_folders: tuple[str, ...] = ()
# The pool's workers run at a lower priority (os.nice): a bulk send's renders and mails are
# batch work, and on a busy machine the processes that move the work on (the event loop
# sending and reading mail, PostgreSQL, a relay on the same host) get the CPU first; the pool
# takes what they leave. On 2 cores a 10,000-mail send kept the machine 92 % busy instead of
# 88 %, end to end 181 -> 194 mails/s (one run each, bench/bulk_send.py --timeline). With
# nothing else wanting the CPU, a nice worker runs as fast as any.
NICE = 10


def _render(template_id: str, data: dict[str, Any], draft: bool, unique: bool = False) -> bytes:
    # Imported in the pool worker that runs it (warmed up there once), not in the parent.
    from templates import render_pdf

    return render_pdf(template_id, data, draft=draft, unique=unique)


def read_reply_sync(
    raw: bytes, template_id: str, known: dict[str, str], lang_hint: str | None = None
) -> Any:
    """Read a reply (runs in a pool worker, so a crafted mail cannot stall the event loop)."""
    # Imported in the pool worker that runs it, not in the parent.
    from handlers.reader.reader import read_reply

    return read_reply(raw, template_id, known, lang_hint=lang_hint)


class ParseTimeout(DpabotError):
    """Reading a reply took longer than allowed (crafted input): the mail is shunted."""


async def read_reply(
    raw: bytes,
    template_id: str,
    known: dict[str, str],
    *,
    timeout: float,  # noqa: ASYNC109 - a deadline for the pool worker, not a cancel scope
    fn: Callable[..., Any] = read_reply_sync,
    lang_hint: str | None = None,
) -> Any:
    """Read a reply in the process pool; a worker stuck past ``timeout`` is killed."""
    loop = asyncio.get_running_loop()
    executor = pool()
    future = loop.run_in_executor(executor, fn, raw, template_id, known, lang_hint)
    try:
        return await asyncio.wait_for(future, timeout)
    except TimeoutError:
        # A worker process cannot be cancelled, only killed: drop this pool and its workers
        # (renders running in it fail and are retried by their jobs) and start a new one.
        _kill(executor)
        raise ParseTimeout(f"reading the reply took longer than {timeout:g} s") from None


def _kill(executor: ProcessPoolExecutor) -> None:
    global _pool
    if _pool is executor:
        _pool = None
    for proc in list(getattr(executor, "_processes", {}).values()):
        proc.kill()
    executor.shutdown(wait=False, cancel_futures=True)


def _warm_up(folders: tuple[str, ...] = ()) -> None:
    from bot import quiet

    os.nice(NICE)

    quiet.library_warnings()
    import templates  # noqa: F401  (typst and the fonts load once per worker, not per render)
    from templates import registry

    # Tenants' own template folders: a spawned worker knows only what it is told.
    for folder in folders:
        registry.register_folder(Path(folder))


def _warm_for(template_id: str) -> None:
    # Imported in the pool worker that runs it, not in the parent.
    import handlers.reader.reader  # noqa: F401
    from templates import render_pdf

    render_pdf(template_id, {"fields": {}}, draft=True)


def warm(template_id: str) -> Future[None]:
    """Start a pool worker now and have it do its first work ahead (Typst, the fonts, this
    template compiled, the reader imported) while the caller goes on loading; await the
    returned future before the first render so that it goes to this warm worker."""
    return pool().submit(_warm_for, template_id)


def pool() -> ProcessPoolExecutor:
    global _pool, _pool_folders
    from templates import registry

    folders = tuple(str(p) for p in registry.registered_folders())
    if _pool is not None and folders != _pool_folders:
        # A tenant folder was registered after the workers started: they must learn of it.
        _pool.shutdown(wait=False)
        _pool = None
    if _pool is None:
        _pool_folders = folders
        # spawn, not fork: the parent runs threads (the dev PKI's server, asyncio helpers) and a
        # forked child could inherit a lock held by one of them.
        _pool = ProcessPoolExecutor(
            max_workers=max(1, min(4, os.cpu_count() or 1)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_warm_up,
            initargs=(folders,),
        )
    return _pool


async def render(
    template_id: str, data: dict[str, Any], *, draft: bool, unique: bool = False
) -> bytes:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool(), _render, template_id, data, draft, unique)


def _render_shared(template_id: str, data: dict[str, Any], keys: list[str]) -> Any:
    from templates.shared_drafts import render_shared_draft  # in the pool worker, as _render

    return render_shared_draft(template_id, data, keys)


async def render_shared(template_id: str, data: dict[str, Any], keys: list[str]) -> Any:
    """A bulk send's shared draft (templates.shared_drafts.SharedDraft), rendered in the pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool(), _render_shared, template_id, data, keys)


async def call(fn: Callable[..., T], *args: Any) -> T:
    """fn(*args) in the process pool (fn a module-level function: it travels by name)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool(), fn, *args)


def workers() -> int:
    """How many processes the pool has."""
    return int(getattr(pool(), "_max_workers", 1))


def pids() -> list[int]:
    """The pool's worker processes now (for measuring them: bench/)."""
    return list(getattr(pool(), "_processes", None) or {})


async def in_thread_loop(factory: Callable[[], Awaitable[T]]) -> T:
    """Run an async job (pyHanko signing: sync crypto inside async calls) on its own loop in a
    thread, so a signature never stalls IMAP IDLE or the chat on the main loop."""

    async def _run() -> T:
        return await factory()

    return await asyncio.to_thread(asyncio.run, _run())


def shutdown() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(cancel_futures=True)
        _pool = None
