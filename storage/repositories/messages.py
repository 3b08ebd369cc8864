"""A tenant's messages: mail and chat messages in and out, stored once, marked as they leave."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from storage.blobs import sha256_hex
from storage.database import raw_connection
from storage.models import Contract, Message
from storage.repositories.base import TenantScoped


class Messages(TenantScoped):
    async def insert_message(self, **values: Any) -> Message | None:
        """Store a message once: None when its Message-ID or IMAP UID is already stored."""
        stmt = (
            insert(Message)
            .values(tenant_id=self.tenant_id, **values)
            .on_conflict_do_nothing()
            .returning(Message.id)
        )
        new_id = await self.session.scalar(stmt)
        if new_id is None:
            return None
        return await self.message(new_id)

    async def message(self, message_row_id: int) -> Message:
        return await self._one(Message, message_row_id, "message")

    async def inbound_id(self, message_id: str) -> int | None:
        """The row of a mail received with this Message-ID."""
        return await self.session.scalar(
            select(Message.id).where(
                self._mine(Message), Message.direction == "in", Message.message_id == message_id
            )
        )

    async def sent_message(self, message_ids: Collection[str]) -> Message | None:
        """An outgoing message with one of these Message-IDs (a reply's thread headers)."""
        return await self.session.scalar(
            self._select(Message).where(
                Message.direction == "out", Message.message_id.in_(list(message_ids))
            )
        )

    async def contract_of_sent(self, message_ids: Collection[str]) -> int | None:
        """The contract of an outgoing message with one of these Message-IDs (a bounce)."""
        return await self.session.scalar(
            select(Message.contract_id).where(
                self._mine(Message),
                Message.direction == "out",
                Message.message_id.in_(list(message_ids)),
                Message.contract_id.is_not(None),
            )
        )

    async def unsent_messages(
        self, ids: Sequence[int], *, without_raw: Collection[int] = ()
    ) -> list[tuple[int, str, bytes | None]]:
        """(id, kind, raw) of these outgoing messages not sent yet, in the order queued; raw is
        None for the ids in ``without_raw`` (the caller has those bytes)."""
        # Straight to the driver, as mark_sent_many: one per send job, and the statement
        # SQLAlchemy compiled for two expanding IN lists cost more than the query.
        conn = await raw_connection(self.session)
        cur = await conn.execute(
            "SELECT id, kind, CASE WHEN id = ANY(%s) THEN NULL ELSE raw END FROM messages"
            " WHERE tenant_id = %s AND id = ANY(%s) AND direction = 'out' AND outcome <> 'sent'"
            " ORDER BY id",
            (list(without_raw), self.tenant_id, list(ids)),
            # Binary results: a job's mails (5 MB) come as they are, not written out in hex by
            # PostgreSQL and read back by psycopg.
            binary=True,
        )
        rows = await cur.fetchall()
        return [(int(i), str(k), None if r is None else bytes(r)) for i, k, r in rows]

    async def mark_sent(self, message_row_id: int, *, raw: bytes | None = None) -> None:
        """An outgoing message went: outcome sent, now; ``raw`` replaces the stored copy."""
        if raw is None:
            await self.mark_sent_many([message_row_id])
            return
        conn = await raw_connection(self.session)
        await conn.execute(
            "UPDATE messages SET outcome = 'sent', processed_at = %s, raw = %s,"
            " raw_sha256 = %s WHERE tenant_id = %s AND id = %s",
            (dt.datetime.now(dt.UTC), raw, sha256_hex(raw), self.tenant_id, message_row_id),
        )

    @staticmethod
    async def mark_sent_direct(driver: Any, tenant_id: int, message_row_ids: Sequence[int]) -> None:
        """mark_sent_many() on a connection of Database.direct() (autocommit: one statement,
        one round trip), for a send job's marks."""
        await driver.execute(
            _MARK_SENT, (dt.datetime.now(dt.UTC), tenant_id, list(message_row_ids))
        )

    async def mark_sent_many(self, message_row_ids: Sequence[int]) -> None:
        """Outgoing messages went: outcome sent, now, in one statement.

        Called for every mail of a bulk send, so straight to the driver, in the session's
        transaction: SQLAlchemy's statement machinery costs more CPU than this UPDATE (about
        0.4 of 0.7 ms a mail, measured), and sending a mail costs about 3 ms.
        """
        conn = await raw_connection(self.session)
        await conn.execute(
            _MARK_SENT, (dt.datetime.now(dt.UTC), self.tenant_id, list(message_row_ids))
        )

    async def sent_count(self, contract_ids: Sequence[int], kind: str) -> int:
        """How many mails of this kind to these contracts have left (a bulk send's count)."""
        sent = 0
        for start in range(0, len(contract_ids), 5000):  # bounded IN lists for big sends
            sent += (
                await self.session.scalar(
                    select(func.count())
                    .select_from(Message)
                    .where(
                        self._mine(Message),
                        Message.contract_id.in_(contract_ids[start : start + 5000]),
                        Message.kind == kind,
                        Message.outcome == "sent",
                    )
                )
                or 0
            )
        return sent

    async def messages(self, contract: Contract) -> Sequence[Message]:
        rows = await self.session.scalars(
            self._select(Message).where(Message.contract_id == contract.id).order_by(Message.id)
        )
        return rows.all()

    async def final_mail_ids(self, contract: Contract, number: int) -> set[str]:
        """Message-IDs of the final-version mails that carried version ``number`` (a resend
        too). A final mail from before versions were recorded counts only if it is the latest."""
        rows = (
            await self.session.execute(
                select(Message.message_id, Message.version)
                .where(
                    self._mine(Message),
                    Message.contract_id == contract.id,
                    Message.direction == "out",
                    Message.kind == "final",
                )
                .order_by(Message.id.desc())
            )
        ).all()
        found = {m.strip() for m, v in rows if v == number}
        if rows and rows[0][1] is None:
            found.add(rows[0][0].strip())
        return found

    async def mail_times(self, contract: Contract, kind: str) -> list[dt.datetime]:
        """When each message of this kind of the contract was stored (reminders sent)."""
        rows = await self.session.scalars(
            select(Message.created_at).where(
                self._mine(Message), Message.contract_id == contract.id, Message.kind == kind
            )
        )
        return list(rows.all())

    async def mails_since(self, contract: Contract, kind: str, since: dt.datetime) -> int:
        """How many outgoing mails of this kind the contract got since then (flood limits)."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                self._mine(Message),
                Message.contract_id == contract.id,
                Message.direction == "out",
                Message.kind == kind,
                Message.created_at >= since,
            )
        )
        return int(count or 0)

    async def mail_window(
        self, contract_id: int, kind: str, window: dt.timedelta
    ) -> tuple[int, dt.datetime | None, dt.datetime]:
        """The contract's outgoing mails of this kind within ``window`` (queued, sent or
        failed): how many, the oldest one's time, and now, all by the database's clock, so
        every process counts the same window."""
        row = (
            await self.session.execute(
                select(func.count(Message.id), func.min(Message.created_at), func.now()).where(
                    self._mine(Message),
                    Message.contract_id == contract_id,
                    Message.direction == "out",
                    Message.kind == kind,
                    Message.created_at > func.now() - window,
                )
            )
        ).one()
        return int(row[0]), row[1], row[2]


_MARK_SENT = (
    "UPDATE messages SET outcome = 'sent', processed_at = %s WHERE tenant_id = %s AND id = ANY(%s)"
)
