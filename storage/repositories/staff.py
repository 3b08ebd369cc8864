"""A tenant's staff members (the Telegram allowlist's rows) and the notifications they get."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, or_, select

from storage.models import Notification, Staff
from storage.repositories.base import TenantScoped


class StaffQueries(TenantScoped):
    async def staff_by_user(self) -> dict[int, Staff]:
        """The tenant's staff rows with a Telegram user, by that user."""
        rows = await self.session.scalars(
            self._select(Staff).where(Staff.telegram_user_id.is_not(None))
        )
        return {r.telegram_user_id: r for r in rows.all() if r.telegram_user_id is not None}

    def add_staff(self, user_id: int, name: str, role: str) -> None:
        """A staff row, written with the transaction's next flush."""
        self.session.add(
            Staff(tenant_id=self.tenant_id, telegram_user_id=user_id, name=name, role=role)
        )

    async def remove_staff(self, user_ids: Sequence[int]) -> None:
        await self.session.execute(
            delete(Staff).where(self._mine(Staff), Staff.telegram_user_id.in_(user_ids))
        )

    async def told(self, kind: str, subject: str, *, within: dt.timedelta | None = None) -> bool:
        """Whether staff got a notification of this kind about this subject (ever, or within
        that time by the database's clock)."""
        stmt = select(Notification.id).where(
            self._mine(Notification), Notification.kind == kind, Notification.subject == subject
        )
        if within is not None:
            stmt = stmt.where(Notification.created_at > func.now() - within)
        return await self.session.scalar(stmt.limit(1)) is not None

    async def next_notification(
        self, now: dt.datetime, *, held: Iterable[str] = ()
    ) -> Notification | None:
        """The oldest notification due for delivery, locked (one another round holds is
        skipped); kinds in ``held`` wait for the digest."""
        stmt = self._select(Notification).where(
            Notification.delivered_at.is_(None),
            # A grouped notice held to its window's end (storage/notify.py) waits till then.
            or_(Notification.deliver_after.is_(None), Notification.deliver_after <= now),
        )
        kinds = list(held)
        if kinds:
            stmt = stmt.where(Notification.kind.not_in(kinds))
        return await self.session.scalar(
            stmt.order_by(Notification.id).limit(1).with_for_update(skip_locked=True)
        )

    async def digest_notifications(
        self, kinds: Iterable[str], before: dt.datetime
    ) -> list[Notification]:
        """Undelivered notifications of these kinds stored before then, oldest first, locked."""
        rows = await self.session.scalars(
            self._select(Notification)
            .where(
                Notification.delivered_at.is_(None),
                Notification.kind.in_(list(kinds)),
                Notification.created_at < before,
            )
            .order_by(Notification.id)
            .with_for_update(skip_locked=True)
        )
        return list(rows.all())
