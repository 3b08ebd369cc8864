"""CPU-heavy work off the event loop: Typst renders in a process pool, signing in a thread."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
_pool: ProcessPoolExecutor | None = None


def _render(template_id: str, data: dict[str, Any], draft: bool) -> bytes:
    from templates import render_pdf

    return render_pdf(template_id, data, draft=draft)


def _warm_up() -> None:
    import templates  # noqa: F401  (typst and the fonts load once per worker, not per render)


def pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, not fork: the parent runs threads (the dev PKI's server, asyncio helpers) and a
        # forked child could inherit a lock held by one of them.
        _pool = ProcessPoolExecutor(
            max_workers=max(1, min(4, os.cpu_count() or 1)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_warm_up,
        )
    return _pool


async def render(template_id: str, data: dict[str, Any], *, draft: bool) -> bytes:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool(), _render, template_id, data, draft)


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
