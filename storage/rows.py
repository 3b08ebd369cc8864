"""Many new rows of one table written straight to the driver, in the session's transaction.

For a bulk send's batch (contracts, versions, mails, audit events: four rows an invitation),
the ORM's unit of work and SQLAlchemy's multi-row INSERT cost more CPU than the rest of storing
it: each batch became one long statement that psycopg parsed again every time (too long for
its cache), and each row went through attribute events and the flush's bookkeeping
(bench/bulk_send.py's profile). Here the statement is short and prepared once, and the rows
are pipelined to PostgreSQL as parameters. The rows are not in the session afterwards: callers
that need objects make them from the values and the ids returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import raw_connection
from storage.models import Base


async def insert_rows(
    session: AsyncSession,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: Sequence[str] = ("id",),
) -> list[tuple[Any, ...]]:
    """INSERT each row (every row with the same keys, column names of ``model``); per row, in
    the rows' order, the values of the ``returning`` columns (the new id, a server default).
    Columns left out get their server default or NULL: the model's Python-side defaults do not
    apply, so callers give those values."""
    if not rows:
        return []
    # Rows the session still holds (a contract these rows refer to) reach PostgreSQL first.
    await session.flush()
    table = model.__table__
    assert isinstance(table, Table)
    columns = list(rows[0])
    json_columns = {name for name in columns if isinstance(table.c[name].type, JSONB)}
    sql = 'INSERT INTO "{}" ({}) VALUES ({}){}'.format(
        table.name,
        ", ".join(f'"{name}"' for name in columns),
        ", ".join(["%s"] * len(columns)),
        (" RETURNING " + ", ".join(f'"{name}"' for name in returning)) if returning else "",
    )
    params = [
        [Jsonb(row[name]) if name in json_columns else row[name] for name in columns]
        for row in rows
    ]
    conn = await raw_connection(session)
    async with conn.cursor() as cur:
        await cur.executemany(sql, params, returning=bool(returning))
        if not returning:
            return []
        out: list[tuple[Any, ...]] = []
        while True:
            out.append(tuple(await cur.fetchone() or ()))
            if not cur.nextset():
                return out
