"""Staff notifications: stored in the caller's transaction, delivered later by the staff channel."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage import scope
from storage.models import Notification

log = logging.getLogger("dpabot.staff")

# A group's window: the first mail opens it, every mail of the group within it is counted.
WINDOW = dt.timedelta(hours=1)
# Beyond this many senders of one kind with an open window, further senders of that kind
# share one tenant-wide notice (a spammer rotating From must not make one notice each).
SENDERS_PER_WINDOW = 5
# The tenant-wide notice lists at most this many distinct senders (it counts its mails all).
SENDERS_LISTED = 1000


async def notify_staff(
    session: AsyncSession,
    tenant_id: int,
    kind: str,
    text: str,
    subject: str = "",
    *,
    params: dict[str, Any] | None = None,
) -> Notification:
    """Tell the tenant's staff something in plain words (never a customer's secrets).

    ``text`` is the English wording; ``params`` the values its template takes, so the staff
    chat words it in its own language at delivery (bot/chat/notify.py)."""
    scope.bind(session, [tenant_id])
    note = Notification(tenant_id=tenant_id, kind=kind, subject=subject, text=text, params=params)
    session.add(note)
    await session.flush()
    # INFO: telling staff is the normal course (a completed contract too), not a problem.
    log.info("tenant %s staff notification [%s] %s: %s", tenant_id, kind, subject, text)
    return note


@dataclass(frozen=True)
class Group:
    """What one grouped notice counts, for its text."""

    kind: str
    sender: str | None  # None: the tenant-wide group of the senders beyond the limit
    count: int  # mails in this notice
    senders: int  # distinct senders in this notice (1 for a sender's own group)
    part: int  # 1: the window's first notice; 2 on: what came after one was delivered
    since: dt.datetime  # the window's start (UTC)
    until: dt.datetime | None  # the window's end, for a notice held until then; else None


TextFor = Callable[[Group], str]


@dataclass(frozen=True)
class _Target:
    """The group one mail is counted in."""

    tenant_id: int
    kind: str
    key: str  # dedupe_key: kind|from|<sender>, or kind|tenant
    group_sender: str | None  # None for the tenant-wide group
    sender: str  # the mail's own sender
    text_for: TextFor
    subject: str
    params: dict[str, Any] | None


async def notify_grouped(
    session: AsyncSession,
    tenant_id: int,
    kind: str,
    sender: str,
    text_for: TextFor,
    subject: str = "",
    *,
    params: dict[str, Any] | None = None,
) -> Notification:
    """Tell staff of one mail that anyone could have sent, grouped so a flood is one notice.

    Mails of one (kind, sender) within WINDOW of the group's first mail share one notice: while
    it is undelivered each mail updates its count and text (``text_for``, English; ``params``
    are the first mail's values and the counts the row's, for wording it at delivery). Once it
    was delivered (or is being sent), the rest of the window is counted in one more notice
    held until the window ends, so staff hear of the first mail at once and of a flood twice
    an hour at most; a flood that goes on into the next window is held to that window's end
    too. Beyond SENDERS_PER_WINDOW senders with an open window, new senders share one
    tenant-wide group.
    """
    scope.bind(session, [tenant_id])
    # One writer of grouped notices per tenant at a time: the sender limit counts groups and
    # a new group's row is inserted after looking; the unique key is the second wall.
    await session.execute(text("SELECT pg_advisory_xact_lock(728, :t)"), {"t": tenant_id})
    now = await session.scalar(select(func.now()))
    assert now is not None
    target = _Target(
        tenant_id, kind, f"{kind}|from|{sender}", sender, sender, text_for, subject, params
    )
    since = await _open_window(session, target.key, tenant_id, now)
    if since is None and await _open_senders(session, tenant_id, kind, now) >= SENDERS_PER_WINDOW:
        target = _Target(tenant_id, kind, f"{kind}|tenant", None, sender, text_for, subject, params)
        since = await _open_window(session, target.key, tenant_id, now)
    if since is None:
        # A group whose last window ended within WINDOW is a flood going on: staff heard of
        # it already, so this window's notice waits for the window's end.
        going_on = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.tenant_id == tenant_id,
                Notification.dedupe_key == target.key,
                Notification.window_start > now - 2 * WINDOW,
            )
        )
        return await _insert(
            session, target, since=now, part=1, until=now + WINDOW if going_on else None
        )
    rows = (
        await session.scalars(
            select(Notification)
            .where(
                Notification.tenant_id == tenant_id,
                Notification.dedupe_key == target.key,
                Notification.window_start == since,
            )
            .order_by(Notification.part)
        )
    ).all()
    for row in rows:
        if row.delivered_at is None and (note := await _count_in(session, target, row.id)):
            return note
    # All delivered or being sent: the rest of the window waits for its end.
    last = max(r.part or 1 for r in rows) if rows else 0
    return await _insert(session, target, since=since, part=last + 1, until=since + WINDOW)


async def _open_window(
    session: AsyncSession, key: str, tenant_id: int, now: dt.datetime
) -> dt.datetime | None:
    """The start of the group's window that is still open at ``now``, if any."""
    start: dt.datetime | None = await session.scalar(
        select(func.max(Notification.window_start)).where(
            Notification.tenant_id == tenant_id,
            Notification.dedupe_key == key,
            Notification.window_start > now - WINDOW,
        )
    )
    return start


async def _open_senders(session: AsyncSession, tenant_id: int, kind: str, now: dt.datetime) -> int:
    """How many senders of this kind have a window of their own open at ``now``."""
    n = await session.scalar(
        select(func.count(func.distinct(Notification.dedupe_key))).where(
            Notification.tenant_id == tenant_id,
            Notification.kind == kind,
            Notification.dedupe_key.startswith(f"{kind}|from|", autoescape=True),
            Notification.window_start > now - WINDOW,
        )
    )
    return int(n or 0)


async def _count_in(session: AsyncSession, target: _Target, note_id: int) -> Notification | None:
    """Count the mail in an undelivered notice; None if it was sent meanwhile or is being
    sent (the staff channel locks a notice while sending: nobody waits here on Telegram)."""
    note = await session.scalar(
        select(Notification)
        .where(Notification.id == note_id, Notification.tenant_id == target.tenant_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if note is None or note.delivered_at is not None:
        return None
    note.count += 1
    listed = list(note.senders or [])
    if target.group_sender is None and target.sender not in listed:
        if len(listed) < SENDERS_LISTED:
            note.senders = [*listed, target.sender]
    note.text = target.text_for(_group(note, target))
    log.info(
        "tenant %s staff notification %s [%s] now counts %d mails",
        target.tenant_id,
        note.id,
        target.kind,
        note.count,
    )
    return note


def _group(note: Notification, target: _Target) -> Group:
    assert note.window_start is not None
    return Group(
        kind=target.kind,
        sender=target.group_sender,
        count=note.count,
        senders=1 if target.group_sender is not None else len(note.senders or []),
        part=note.part or 1,
        since=note.window_start.astimezone(dt.UTC),
        until=note.deliver_after.astimezone(dt.UTC) if note.deliver_after else None,
    )


async def _insert(
    session: AsyncSession,
    target: _Target,
    *,
    since: dt.datetime,
    part: int,
    until: dt.datetime | None,
) -> Notification:
    """A new notice of a group: the window's first, or one held to the window's end."""
    first = Group(
        kind=target.kind,
        sender=target.group_sender,
        count=1,
        senders=1,
        part=part,
        since=since.astimezone(dt.UTC),
        until=until.astimezone(dt.UTC) if until else None,
    )
    values = {
        "tenant_id": target.tenant_id,
        "kind": target.kind,
        "subject": target.subject[:200],
        "text": target.text_for(first),
        "params": target.params,
        "dedupe_key": target.key,
        "window_start": since,
        "part": part,
        "count": 1,
        "senders": None if target.group_sender is not None else [target.sender],
        "deliver_after": until,
        "attempts": 0,
    }
    # The advisory lock leaves no conflict among writers that take it; should there be one
    # all the same, the mail is counted in the row that stands rather than failing.
    note_id = await session.scalar(
        insert(Notification)
        .values(**values)
        .on_conflict_do_update(
            constraint="uq_notifications_group", set_={"count": Notification.count + 1}
        )
        .returning(Notification.id)
    )
    note = await session.scalar(
        select(Notification)
        .where(Notification.id == note_id, Notification.tenant_id == target.tenant_id)
        .execution_options(populate_existing=True)
    )
    assert note is not None
    log.warning(
        "tenant %s staff notification [%s] %s: %s",
        target.tenant_id,
        target.kind,
        note.subject,
        note.text,
    )
    return note
