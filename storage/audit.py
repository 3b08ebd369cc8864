"""Append-only, hash-chained audit log per tenant (tamper-evident)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent

GENESIS = "0" * 64


def event_hash(
    prev_hash: str, at: dt.datetime, actor: str, action: str, subject: str, detail: dict[str, Any]
) -> str:
    body = json.dumps(
        [prev_hash, at.isoformat(), actor, action, subject, detail],
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
    detail = detail or {}
    # One writer at a time per tenant, or two events could chain to the same predecessor.
    await session.execute(text("SELECT pg_advisory_xact_lock(727, :t)"), {"t": tenant_id})
    prev = await session.scalar(
        select(AuditEvent.hash)
        .where(AuditEvent.tenant_id == tenant_id)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    prev_hash = prev or GENESIS
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    event = AuditEvent(
        tenant_id=tenant_id,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        detail=detail,
        prev_hash=prev_hash,
        hash=event_hash(prev_hash, at, actor, action, subject, detail),
    )
    session.add(event)
    await session.flush()
    return event


async def verify_chain(session: AsyncSession, tenant_id: int) -> tuple[bool, int]:
    """(chain intact, number of events) for one tenant."""
    rows = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.tenant_id == tenant_id).order_by(AuditEvent.id)
        )
    ).all()
    prev = GENESIS
    for ev in rows:
        expected = event_hash(prev, ev.at, ev.actor, ev.action, ev.subject, ev.detail)
        if ev.prev_hash != prev or ev.hash != expected:
            return False, len(rows)
        prev = ev.hash
    return True, len(rows)
