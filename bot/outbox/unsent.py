"""Mails this process stored and has not sent yet, kept in memory: its own send job takes them
from here instead of reading each back from PostgreSQL.

Reading a stored invitation back (about 110 KB, mostly its base64 PDF) cost PostgreSQL and the
sending process about as much CPU as storing it (bench/bulk_send.py). The copy here is the
bytes stored, by row id: ids are never reused, a row's stored bytes never change while it is
unsent, and the job still asks PostgreSQL which of its mails are unsent and the tenant's, so a
copy only ever stands for the row it was stored as. A `dpabot worker` in another process, or
a copy evicted, reads the row as before.

A bulk send waits for room here (room()) while this process's own sender is taking copies:
storing runs at most LIMIT ahead of sending instead of racing on and having its copies evicted
(at 10,000 invitations most of them were, and each was read back: PostgreSQL's CPU a mail
doubled). The sender counts as at work while a send job of this process runs with copies it
took here (sending()), however long its mails take, and for IDLE_S after it took some: a job
of 50 mails to a slow relay takes longer than IDLE_S, and between two takes storing would
stop waiting and race on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator

# At most this many bytes kept: a few bulk batches ahead of the sender (the peak RSS goal of a
# bulk send is 400 MB, bench/bulk_send.py).
LIMIT = 64 * 1024 * 1024
# No copy taken for this long: no sender in this process is taking them (a `dpabot worker`
# elsewhere sends), so a bulk send does not wait for room.
IDLE_S = 1.0
# A copy nobody took for this long is dropped when room is wanted (its transaction rolled back,
# or its job ran elsewhere): it would otherwise hold room for good.
STALE_S = 30.0
POLL_S = 0.01

_kept: OrderedDict[int, tuple[float, bytes]] = OrderedDict()
_size = 0
_taken_at = float("-inf")  # when a copy was last taken
_sending = 0  # send jobs of this process at work on copies they took here


def keep(rows: Iterable[tuple[int, bytes]]) -> None:
    """Remember just-stored mails (row id, the bytes stored); the oldest go past LIMIT."""
    global _size
    now = time.monotonic()
    for row_id, raw in rows:
        if len(raw) > LIMIT // 8:
            continue
        old = _kept.pop(row_id, None)
        _size += len(raw) - (len(old[1]) if old is not None else 0)
        _kept[row_id] = (now, raw)
    while _size > LIMIT and _kept:
        _size -= len(_kept.popitem(last=False)[1][1])


def take(row_ids: Iterable[int]) -> dict[int, bytes]:
    """The stored bytes of those rows kept here, by row id; no longer kept (being sent)."""
    global _size, _taken_at
    taken = {}
    for row_id in row_ids:
        kept = _kept.pop(row_id, None)
        if kept is not None:
            _size -= len(kept[1])
            taken[row_id] = kept[1]
    if taken:
        _taken_at = time.monotonic()
    return taken


@contextlib.contextmanager
def sending(row_ids: Iterable[int]) -> Iterator[dict[int, bytes]]:
    """take(row_ids) for a send job: while the job runs with copies from here, this process's
    sender counts as at work (room() waits for it)."""
    global _sending
    taken = take(row_ids)
    busy = 1 if taken else 0
    _sending += busy
    try:
        yield taken
    finally:
        _sending -= busy


def _drop_stale(now: float) -> None:
    global _size
    while _kept:
        row_id, (kept_at, raw) = next(iter(_kept.items()))
        if now - kept_at < STALE_S:
            return
        del _kept[row_id]
        _size -= len(raw)


async def room(mails: int) -> None:
    """Wait until ``mails`` more copies (as big as those kept now) fit under LIMIT, or at
    least half of it is free when they would need more, for as long as this process's sender
    is at work (a send job running with copies from here, or one taken in the last IDLE_S);
    without one, return at once. Copies older than STALE_S are dropped, so no wait lasts
    longer than that."""
    while True:
        now = time.monotonic()
        _drop_stale(now)
        need = min(mails * _size / len(_kept), LIMIT / 2) if _kept else 0
        if _size + need <= LIMIT or (not _sending and now - _taken_at > IDLE_S):
            return
        await asyncio.sleep(POLL_S)
