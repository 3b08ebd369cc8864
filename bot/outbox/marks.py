"""Marking sent mails in group commits: one UPDATE (committed by itself, on the job's own
connection) for the marks of every mail that left while the previous one was being written.

A connection waits for its mail's mark before it sends its next one, so a worker that dies at
any moment resends at most the mails in flight (one per connection), as with one transaction
per mail; but a bulk send's 8 connections share a commit instead of paying one each (about a
third of the sending process's CPU went to those transactions, bench/bulk_send.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Runtime
from storage.database import raw_connection
from storage.repositories.messages import Messages

# Mails whose body is a secret once sent (a one-time chat code): kept as headers only.
SECRET_KINDS = frozenset({"chat_code"})


class Marks:
    """The marks of one send job (one tenant). close() when the job is done."""

    def __init__(self, rt: Runtime, slug: str, *, direct: bool) -> None:
        """``direct``: on a connection of the job's own (worth opening for a bulk send's job,
        not for one follow-up mail, which marks through the pool)."""
        self.rt, self.slug, self.direct = rt, slug, direct
        self.waiting: list[tuple[int, asyncio.Future[None]]] = []
        self.writer: asyncio.Task[None] | None = None
        self.conn: Any = None
        self.opened = contextlib.AsyncExitStack()

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

    async def close(self) -> None:
        if self.writer is not None:
            await asyncio.gather(self.writer, return_exceptions=True)
        await self.opened.aclose()
        self.conn = None

    async def _write(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting, []
            ids = [i for i, _ in batch]
            try:
                if self.direct:
                    conn = await self._connection()
                    await Messages.mark_sent_direct(conn, self.rt.tenant_ids[self.slug], ids)
                else:
                    async with self.rt.db.transaction() as s:
                        await _no_fsync_wait(s)
                        await self.rt.repo(s, self.slug).mark_sent_many(ids)
            except Exception as exc:  # each waiting connection gets the error
                await self._drop()  # a broken connection: the next mark opens a new one
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _connection(self) -> Any:
        # A connection of the job's own, in autocommit: a mark is one statement and one round
        # trip. Through a pooled session each cost a check of the connection, BEGIN, the
        # tenant scope, this setting, the UPDATE and COMMIT: six round trips, and as many
        # statements for PostgreSQL, for every mail (bench/bulk_send.py).
        if self.conn is None:
            conn = await self.opened.enter_async_context(
                self.rt.db.direct([self.rt.tenant_ids[self.slug]])
            )
            await conn.execute("SET synchronous_commit = off")  # see NO_FSYNC_WAIT: all its marks
            self.conn = conn
        return self.conn

    async def _drop(self) -> None:
        with contextlib.suppress(Exception):
            await self.opened.aclose()
        self.opened = contextlib.AsyncExitStack()
        self.conn = None

    async def _commit_one(self, row_id: int, kept: bytes) -> None:
        async with self.rt.db.transaction() as s:
            await _no_fsync_wait(s)
            await self.rt.repo(s, self.slug).mark_sent(row_id, raw=kept)


# Without waiting for the WAL to reach the disk (an fsync per commit): what must not lose a
# mark is the worker dying (kill -9, a crash), and a commit survives that once PostgreSQL has
# it. Only PostgreSQL itself crashing could lose the last fraction of a second of marks: those
# mails would go twice, never be lost.
NO_FSYNC_WAIT = "SET LOCAL synchronous_commit = off"


async def _no_fsync_wait(s: AsyncSession) -> None:
    await (await raw_connection(s)).execute(NO_FSYNC_WAIT)


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
