"""The send job: queued mails over one SMTP session, each marked sent as it leaves."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from bot.core.runtime import Runtime
from bot.transports.errors import TransportError
from storage import audit
from storage.database import raw_connection
from storage.notify import notify_staff
from templates.chat import notice_text

log = logging.getLogger(__name__)


async def send_message(rt: Runtime, slug: str, message_row_id: int) -> None:
    """send_messages() of one mail (jobs queued before mails were sent in batches)."""
    await send_messages(rt, slug, [message_row_id])


async def send_messages(
    rt: Runtime, slug: str, message_row_ids: Sequence[int], *, final_attempt: bool = False
) -> None:
    """Hand stored outgoing mails to the tenant's transport, as stored (no parsing and
    flattening again), over one connection; each is marked sent as soon as the server took it.

    A mail that fails does not hold up the others; the job fails after trying them all, so
    its retry (with backoff) sends only those not sent yet. On the job's last attempt a mail
    that still fails is marked failed and the tenant's staff are told which and why.
    """
    async with rt.db.transaction() as s:
        pending = await rt.repo(s, slug).unsent_messages(message_row_ids)
    if not pending:
        return  # at-least-once delivery of the job; the mails went already
    failures: list[tuple[int, TransportError]] = []
    async with rt.senders[slug].session() as send:
        for row_id, kind, raw in pending:
            try:
                await send(raw)
            except TransportError as exc:
                log.warning("Sending message %s failed: %s", row_id, exc)
                failures.append((row_id, exc))
                continue
            # Marked before the next mail leaves: should the worker die at any moment, the
            # retry sends again at most one mail that had gone (this one, or the one in flight).
            await _mark_sent(rt, slug, row_id, kind, raw)
    if not failures:
        return
    if final_attempt:
        await _give_up(rt, slug, failures)
        return
    first = failures[0][1]
    if len(failures) == 1:
        raise first
    raise TransportError(
        f"{len(failures)} of {len(pending)} mails were not sent; the first: {first}"
    ) from first


async def _give_up(rt: Runtime, slug: str, failures: Sequence[tuple[int, TransportError]]) -> None:
    """Mails that failed every attempt: marked failed (kept as queued), staff told each."""
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


async def _mark_sent(rt: Runtime, slug: str, row_id: int, kind: str, raw: bytes) -> None:
    """One mail marked sent, in a transaction of its own (a secret's body removed)."""
    kept = redacted(raw) if kind in SECRET_KINDS else None
    async with rt.db.transaction() as s:
        # Without waiting for the WAL to reach the disk (an fsync per mail): what must not lose
        # the mark is the worker dying (kill -9, a crash), and a commit survives that once
        # PostgreSQL has it. Only PostgreSQL itself crashing could lose the last fraction of a
        # second of marks: those mails would go twice, never be lost.
        await (await raw_connection(s)).execute("SET LOCAL synchronous_commit = off")
        await rt.repo(s, slug).mark_sent(row_id, raw=kept)


# Mails whose body is a secret once sent (a one-time chat code): kept as headers only.
SECRET_KINDS = frozenset({"chat_code"})


def redacted(raw: bytes) -> bytes:
    """The mail's headers, its body replaced by a note: the stored copy reveals no code."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        head, found, _ = raw.partition(sep)
        if found:
            break
    else:
        head = b""
    # The headers still name the multipart body; this note is what the stored copy holds now.
    return head + b"\r\n\r\n[body removed after sending: it held a one-time chat code]\r\n"
