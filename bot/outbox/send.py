"""The send job: queued mails over the tenant's SMTP connections, each marked sent as it leaves."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from bot.core.runtime import Runtime
from bot.outbox import unsent
from bot.outbox.marks import Marks
from bot.transports.errors import TransportError
from storage import audit
from storage.notify import notify_staff
from templates.chat import notice_text

log = logging.getLogger(__name__)


async def send_message(rt: Runtime, slug: str, message_row_id: int) -> None:
    """send_messages() of one mail (jobs queued before mails were sent in batches)."""
    await send_messages(rt, slug, [message_row_id])


# A mail the server answered "try again later" (4xx) or whose connection broke is tried again
# after these pauses (seconds), within the job; still failing, it waits for the job's retry.
BACKOFF_S = (1.0, 4.0)
# Fewer mails than this per connection are not worth opening another for.
MIN_PER_CONNECTION = 4


async def send_messages(
    rt: Runtime, slug: str, message_row_ids: Sequence[int], *, final_attempt: bool = False
) -> None:
    """Hand stored outgoing mails to the tenant's transport, as stored (no parsing and
    flattening again), spread over up to its ``connections`` at once; each is marked sent as
    soon as the server took it.

    A mail that fails does not hold up the others. A refusal for good (5xx) marks it failed at
    once and the tenant's staff are told which and why; "try again later" (4xx) or a broken
    connection is retried after BACKOFF_S pauses, then the job fails so that its retry (with
    the job queue's backoff) sends only those not sent yet. On the job's last attempt a mail
    that still fails is marked failed and staff are told.
    """
    # The bytes this process stored, if it still has them; while this job sends them a bulk
    # send here waits for room instead of storing further ahead (bot/outbox/unsent.py).
    with unsent.sending(message_row_ids) as kept:
        await _send_stored(rt, slug, message_row_ids, kept, final_attempt)


async def _send_stored(
    rt: Runtime,
    slug: str,
    message_row_ids: Sequence[int],
    kept: dict[int, bytes],
    final_attempt: bool,
) -> None:
    async with rt.db.transaction() as s:
        rows = await rt.repo(s, slug).unsent_messages(message_row_ids, without_raw=kept.keys())
    pending = deque((i, kind, kept[i] if raw is None else raw) for i, kind, raw in rows)
    if not pending:
        return  # at-least-once delivery of the job; the mails went already
    total = len(pending)
    sender = rt.senders[slug]
    marks = Marks(rt, slug, direct=total >= MIN_PER_CONNECTION)
    refused: list[tuple[int, TransportError]] = []
    waiting: list[tuple[int, TransportError]] = []

    async def connection() -> None:
        async with sender.session() as send:
            while pending:
                row_id, kind, raw = pending.popleft()
                error = await _send_one(send, row_id, raw)
                if error is None:
                    # Marked before this connection's next mail leaves: should the worker die
                    # at any moment, the retry sends again at most the mails in flight.
                    await marks.sent(row_id, kind, raw)
                else:
                    (refused if error.permanent else waiting).append((row_id, error))

    lanes = max(1, min(getattr(sender, "connections", 1), total // MIN_PER_CONNECTION))
    try:
        await asyncio.gather(*(connection() for _ in range(lanes)))
    finally:
        await marks.close()
    if refused or (waiting and final_attempt):
        await _give_up(rt, slug, refused + (waiting if final_attempt else []))
    if not waiting or final_attempt:
        return
    first = waiting[0][1]
    if len(waiting) == 1:
        raise first
    raise TransportError(
        f"{len(waiting)} of {total} mails were not sent; the first: {first}"
    ) from first


async def _send_one(
    send: Callable[[bytes], Awaitable[None]], row_id: int, raw: bytes
) -> TransportError | None:
    """One mail, again after each BACKOFF_S pause while the failure may pass; its last error."""
    for pause in (0.0, *BACKOFF_S):
        if pause:
            await asyncio.sleep(pause)
        try:
            await send(raw)
        except TransportError as exc:
            log.warning("Sending message %s failed: %s", row_id, exc)
            if exc.permanent:
                return exc
            error = exc
        else:
            return None
    return error


async def _give_up(rt: Runtime, slug: str, failures: Sequence[tuple[int, TransportError]]) -> None:
    """Mails refused for good or failing every attempt: marked failed (kept as queued), staff
    told each."""
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        for row_id, exc in failures:
            row = await repo.message(row_id)
            row.outcome = "failed"
            row.detail = str(exc)
            row.processed_at = dt.datetime.now(dt.UTC)
            params = {
                "mail_kind": row.kind or None,
                "to": row.to_addr,
                "ref": f"{slug}-{row.contract_id}" if row.contract_id is not None else None,
                "error": str(exc),
            }
            await notify_staff(
                s,
                repo.tenant_id,
                "undeliverable",
                notice_text("undeliverable", params),
                subject=f"message:{row_id}",
                params=params,
            )
            await audit.record(
                s,
                repo.tenant_id,
                "dpabot",
                "message.undeliverable",
                f"message:{row_id}",
                {"to": row.to_addr, "reason": str(exc)},
            )
