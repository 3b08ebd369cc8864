"""The tenant scope of a transaction: what PostgreSQL's row-level security lets it see.

The repositories filter every query by tenant; row-level security is the second wall, for a
query that forgets. Each tenant table has a policy admitting only rows whose tenant_id is in
the transaction-local setting ``dpabot.tenants``, and the service runs as a role that cannot
bypass it (migration 0009). A session is bound to its tenants (``bind``, which every repository
calls when it is made: storage/repositories/base.py), and the setting follows it: set on the
connection before the first statement of each transaction, gone at its end. A session bound
to nothing sees no tenant's rows at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.errors import StorageError

SETTING = "dpabot.tenants"
# The role the service runs as (created by migration 0009): no superuser, no BYPASSRLS.
APP_ROLE = "dpabot_app"
_SCOPE = "dpabot_tenants"  # session.info: frozenset of tenant ids
_SESSION = "dpabot_session_info"  # connection.info: the info dict of the session using it
_APPLIED = "dpabot_tenants_applied"  # connection.info: the scope set in this transaction


class ScopeError(StorageError):
    """Code asked one session to act for a tenant outside the scope it was bound to."""


def bind(session: AsyncSession | Session, tenant_ids: Iterable[int]) -> None:
    """Let this session's transactions see these tenants' rows (and no others).

    A session is bound once; binding again may only narrow to tenants it already has: one
    transaction never mixes a tenant it was not opened for.
    """
    wanted = frozenset(int(t) for t in tenant_ids)
    current = session.info.get(_SCOPE)
    if current is None:
        session.info[_SCOPE] = wanted
    elif not wanted <= current:
        raise ScopeError(
            f"A transaction for tenants {sorted(current)} was asked to act for tenants "
            f"{sorted(wanted - current)}; open a transaction of their own."
        )


def scope_of(session: AsyncSession | Session) -> frozenset[int] | None:
    result: frozenset[int] | None = session.info.get(_SCOPE)
    return result


@event.listens_for(Session, "after_begin")
def _session_began(session: Session, transaction: Any, connection: Any) -> None:
    # The connection learns which session (and so which scope) its statements serve.
    connection.info[_SESSION] = session.info
    connection.info.pop(_APPLIED, None)


def _transaction_ended(conn: Any, *args: Any) -> None:
    # set_config(..., true) ends with the transaction; the next one serves another session.
    conn.info.pop(_APPLIED, None)
    conn.info.pop(_SESSION, None)


def _savepoint_rolled_back(conn: Any, *args: Any) -> None:
    # A setting made inside a savepoint that is rolled back is undone with it.
    conn.info.pop(_APPLIED, None)


def _before_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    info = conn.info.get(_SESSION)
    wanted = info.get(_SCOPE) if info is not None else None
    if wanted is None or conn.info.get(_APPLIED) == wanted:
        return
    cursor.execute(
        "SELECT set_config(%s, %s, true)", (SETTING, ",".join(str(t) for t in sorted(wanted)))
    )
    conn.info[_APPLIED] = wanted


async def apply_raw(conn_info: dict[str, Any], driver: Any) -> None:
    """The scope on a psycopg connection used directly (no SQLAlchemy statement set it yet)."""
    info = conn_info.get(_SESSION)
    wanted = info.get(_SCOPE) if info is not None else None
    if wanted is None or conn_info.get(_APPLIED) == wanted:
        return
    await driver.execute(
        "SELECT set_config(%s, %s, true)", (SETTING, ",".join(str(t) for t in sorted(wanted)))
    )
    conn_info[_APPLIED] = wanted


async def bind_connection(driver: Any, tenant_ids: Iterable[int]) -> None:
    """The scope on a psycopg connection of its own (Database.direct), for the whole session:
    it serves these tenants until it is closed."""
    await driver.execute(
        "SELECT set_config(%s, %s, false)",
        (SETTING, ",".join(str(t) for t in sorted(int(t) for t in tenant_ids))),
    )


def install(engine: Engine) -> None:
    """Make this engine's sessions carry their tenant scope to PostgreSQL."""
    event.listen(engine, "before_cursor_execute", _before_execute)
    event.listen(engine, "commit", _transaction_ended)
    event.listen(engine, "rollback", _transaction_ended)
    event.listen(engine, "rollback_savepoint", _savepoint_rolled_back)
