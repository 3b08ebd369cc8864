"""Marking sent mails in group commits: one transaction for the marks of every mail that left
while the previous transaction was committing.

A connection waits for its mail's mark before it sends its next one, so a worker that dies at
any moment resends at most the mails in flight (one per connection), as with one transaction
per mail; but a bulk send's 8 connections share a commit instead of paying one each (about a
third of the sending process's CPU went to those transactions, bench/bulk_send.py).
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Runtime
from storage.database import raw_connection

# Mails whose body is a secret once sent (a one-time chat code): kept as headers only.
SECRET_KINDS = frozenset({"chat_code"})


class Marks:
    """The marks of one send job (one tenant)."""

    def __init__(self, rt: Runtime, slug: str) -> None:
        self.rt, self.slug = rt, slug
        self.waiting: list[tuple[int, asyncio.Future[None]]] = []
        self.writer: asyncio.Task[None] | None = None

    async def sent(self, row_id: int, kind: str, raw: bytes) -> None:
        """Mark the mail sent; returns once the mark is committed (raises if it failed)."""
        if kind in SECRET_KINDS:  # its stored copy changes too: a transaction of its own
            await self._commit_one(row_id, redacted(raw))
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append((row_id, done))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.create_task(self._write())
        await done

    async def _write(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting, []
            try:
                async with self.rt.db.transaction() as s:
                    await _no_fsync_wait(s)
                    await self.rt.repo(s, self.slug).mark_sent_many([i for i, _ in batch])
            except Exception as exc:  # each waiting connection gets the error
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _commit_one(self, row_id: int, kept: bytes) -> None:
        async with self.rt.db.transaction() as s:
            await _no_fsync_wait(s)
            await self.rt.repo(s, self.slug).mark_sent(row_id, raw=kept)


async def _no_fsync_wait(s: AsyncSession) -> None:
    # Without waiting for the WAL to reach the disk (an fsync per commit): what must not lose
    # the mark is the worker dying (kill -9, a crash), and a commit survives that once
    # PostgreSQL has it. Only PostgreSQL itself crashing could lose the last fraction of a
    # second of marks: those mails would go twice, never be lost.
    await (await raw_connection(s)).execute("SET LOCAL synchronous_commit = off")


def redacted(raw: bytes) -> bytes:
    """The mail's headers, its body replaced by a note: the stored copy reveals no code."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        head, found, _ = raw.partition(sep)
        if found:
            break
    else:
        head = b""
    # The headers still name the multipart body; this note is what the stored copy holds now.
    return head + b"\r\n\r\n[body removed after sending: it held a one-time chat code]\r\n"
