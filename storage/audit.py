"""Append-only, hash-chained audit log per tenant (tamper-evident)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import scope
from storage.models import AuditEvent, Tenant
from storage.rows import insert_rows

GENESIS = "0" * 64


def event_hash(
    tenant_id: int,
    prev_hash: str,
    at: dt.datetime,
    actor: str,
    action: str,
    subject: str,
    detail: dict[str, Any],
) -> str:
    # The tenant is part of the hash: two tenants' identical first events must not collide
    # (hashes are unique), and an event cannot be moved to another tenant's chain unnoticed.
    body = json.dumps(
        [tenant_id, prev_hash, at.isoformat(), actor, action, subject, detail],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


async def record(
    session: AsyncSession,
    tenant_id: int,
    actor: str,
    action: str,
    subject: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event, chained to the tenant's previous one."""
    (event,) = await record_many(session, tenant_id, actor, [(action, subject, detail or {})])
    return event


async def record_many(
    session: AsyncSession,
    tenant_id: int,
    actor: str,
    entries: Sequence[tuple[str, str, dict[str, Any]]],
) -> list[AuditEvent]:
    """Append events (action, subject, detail) in this order, each chained to the one before:
    a batch costs one lock and one insert, not one of each per event (bulk invitations)."""
    if not entries:
        return []
    scope.bind(session, [tenant_id])
    # One writer at a time per tenant, or two events could chain to the same predecessor.
    await session.execute(text("SELECT pg_advisory_xact_lock(727, :t)"), {"t": tenant_id})
    prev = await session.scalar(
        select(AuditEvent.hash)
        .where(AuditEvent.tenant_id == tenant_id)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    # The chain is read in id order: ids taken now, ascending, follow the events' order.
    ids = sorted(
        (
            await session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))"
                    " FROM generate_series(1, :n)"
                ),
                {"n": len(entries)},
            )
        ).all()
    )
    prev_hash = prev or GENESIS
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    events = []
    for event_id, (action, subject, detail) in zip(ids, entries, strict=True):
        event_hash_ = event_hash(tenant_id, prev_hash, at, actor, action, subject, detail)
        events.append(
            AuditEvent(
                id=event_id,
                tenant_id=tenant_id,
                at=at,
                actor=actor,
                action=action,
                subject=subject,
                detail=detail,
                prev_hash=prev_hash,
                hash=event_hash_,
            )
        )
        prev_hash = event_hash_
    # Straight to the driver (storage/rows.py): a bulk send logs a batch of events at once.
    columns = ("id", "tenant_id", "at", "actor", "action", "subject", "detail", "prev_hash", "hash")
    await insert_rows(
        session,
        AuditEvent,
        [{c: getattr(e, c) for c in columns} for e in events],
        returning=(),
    )
    # Same transaction as the events: the anchor and the log cannot disagree unless tampered.
    await session.execute(
        update(Tenant)
        .where(Tenant.id == tenant_id)
        .values(audit_head_id=events[-1].id, audit_head_hash=events[-1].hash)
    )
    return events


async def events(session: AsyncSession, tenant_id: int) -> list[AuditEvent]:
    """The tenant's events, oldest first."""
    scope.bind(session, [tenant_id])
    rows = await session.scalars(
        select(AuditEvent).where(AuditEvent.tenant_id == tenant_id).order_by(AuditEvent.id)
    )
    return list(rows.all())


@dataclass
class ChainCheck:
    """The outcome of checking one tenant's log: ok, or the first bad event and why."""

    ok: bool
    count: int
    bad_event_id: int | None = None
    reason: str = ""


async def check_chain(session: AsyncSession, tenant_id: int) -> ChainCheck:
    """Recompute every link and compare the end with the tenant's anchor.

    A changed event fails its own hash; a deleted or moved one breaks the next event's
    prev_hash; deleting the newest events breaks no link, which only the anchor shows.
    """
    scope.bind(session, [tenant_id])
    rows = await events(session, tenant_id)
    prev = GENESIS
    for ev in rows:
        expected = event_hash(ev.tenant_id, prev, ev.at, ev.actor, ev.action, ev.subject, ev.detail)
        if ev.prev_hash != prev:
            return ChainCheck(
                False,
                len(rows),
                ev.id,
                f"event {ev.id} does not follow the event before it "
                "(an event was deleted, inserted or moved)",
            )
        if ev.hash != expected:
            return ChainCheck(
                False, len(rows), ev.id, f"event {ev.id} was changed after it was written"
            )
        prev = ev.hash
    tenant = await session.get(Tenant, tenant_id, populate_existing=True)
    head_id = tenant.audit_head_id if tenant else None
    head_hash = tenant.audit_head_hash if tenant else None
    last_id, last_hash = (rows[-1].id, rows[-1].hash) if rows else (None, None)
    if (head_id, head_hash) != (last_id, last_hash):
        return ChainCheck(
            False,
            len(rows),
            head_id,
            f"the log ends at event {last_id} but the newest recorded event is {head_id} "
            "(the latest events were deleted or changed)",
        )
    return ChainCheck(True, len(rows))


async def verify_chain(session: AsyncSession, tenant_id: int) -> tuple[bool, int]:
    """(chain intact, number of events) for one tenant."""
    scope.bind(session, [tenant_id])
    result = await check_chain(session, tenant_id)
    return result.ok, result.count
