"""Staff notifications: stored in the caller's transaction, delivered later by the staff channel."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from storage import scope
from storage.models import Notification

log = logging.getLogger("dpabot.staff")


async def notify_staff(
    session: AsyncSession, tenant_id: int, kind: str, text: str, subject: str = ""
) -> Notification:
    """Tell the tenant's staff something in plain words (never a customer's secrets)."""
    scope.bind(session, [tenant_id])
    note = Notification(tenant_id=tenant_id, kind=kind, subject=subject, text=text)
    session.add(note)
    await session.flush()
    log.warning("tenant %s staff notification [%s] %s: %s", tenant_id, kind, subject, text)
    return note
