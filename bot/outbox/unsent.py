"""Mails this process stored and has not sent yet, kept in memory: its own send job takes them
from here instead of reading each back from PostgreSQL.

Reading a stored invitation back (about 110 KB, mostly its base64 PDF) cost PostgreSQL and the
sending process about as much CPU as storing it (bench/bulk_send.py). The copy here is the
bytes stored, by row id: ids are never reused, a row's stored bytes never change while it is
unsent, and the job still asks PostgreSQL which of its mails are unsent and the tenant's, so a
copy only ever stands for the row it was stored as. A `dpabot worker` in another process, or
a copy evicted, reads the row as before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

# At most this many bytes kept: a few bulk batches ahead of the sender (the peak RSS goal of a
# bulk send is 400 MB, bench/bulk_send.py).
LIMIT = 32 * 1024 * 1024

_kept: OrderedDict[int, bytes] = OrderedDict()
_size = 0


def keep(rows: Iterable[tuple[int, bytes]]) -> None:
    """Remember just-stored mails (row id, the bytes stored); the oldest go past LIMIT."""
    global _size
    for row_id, raw in rows:
        if len(raw) > LIMIT // 8:
            continue
        old = _kept.pop(row_id, None)
        _size += len(raw) - (len(old) if old is not None else 0)
        _kept[row_id] = raw
    while _size > LIMIT and _kept:
        _size -= len(_kept.popitem(last=False)[1])


def take(row_ids: Iterable[int]) -> dict[int, bytes]:
    """The stored bytes of those rows kept here, by row id; no longer kept (being sent)."""
    global _size
    taken = {}
    for row_id in row_ids:
        raw = _kept.pop(row_id, None)
        if raw is not None:
            _size -= len(raw)
            taken[row_id] = raw
    return taken
