"""Mail transport interfaces and the inbound listener loop that drives any Mailbox."""

from __future__ import annotations

import asyncio
import email.message
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from bot.transports.errors import TransportError

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# First pause before a reconnect; doubled after each failure up to backoff_max.
_BACKOFF_START = 0.5


class MailSender(Protocol):
    """Something that delivers outgoing messages (SMTP, or a Maildir in the demo)."""

    async def send(self, msg: email.message.EmailMessage) -> None: ...

    async def send_raw(self, raw: bytes) -> None:
        """A stored message, byte for byte."""
        ...

    def session(self) -> AbstractAsyncContextManager[Callable[[bytes], Awaitable[None]]]:
        """send_raw for many messages, over one connection where the transport has them."""
        ...

    async def aclose(self) -> None:
        """Close what the sender keeps open between sends (connections)."""
        ...


@dataclass(frozen=True)
class InboundMessage:
    """One received message, identified the way IMAP identifies it."""

    uidvalidity: int
    uid: int
    raw: bytes

    def __repr__(self) -> str:
        # Never show the body: reprs end up in logs and tracebacks.
        return (
            f"InboundMessage(uidvalidity={self.uidvalidity}, uid={self.uid}, {len(self.raw)} bytes)"
        )


class Mailbox(Protocol):
    """An inbox that we read and flag, never delete from."""

    async def connect(self) -> None: ...

    async def fetch_unprocessed(self) -> list[InboundMessage]:
        """Return the messages not yet flagged as processed by us, oldest first."""
        ...

    async def mark_processed(self, msg: InboundMessage) -> None: ...

    async def wait_for_new(self, timeout: float) -> None:  # noqa: ASYNC109 - the interface's own deadline, not a cancel scope
        """Return when the server signals a change, or after ``timeout`` seconds."""
        ...

    async def close(self) -> None: ...


async def _unless_stopped(aw: Awaitable[_T], stop: asyncio.Event) -> tuple[bool, _T | None]:
    """Await ``aw`` unless ``stop`` is set first; then cancel it and return (False, None)."""
    task = asyncio.ensure_future(aw)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()  # our caller is being cancelled: take the operation down with it
        raise
    finally:
        stopper.cancel()
    if task.done():
        return True, task.result()
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        # We are stopping; whatever the cancelled operation raised no longer matters.
        pass
    return False, None


async def _close_quietly(mailbox: Mailbox) -> None:
    try:
        await mailbox.close()
    except Exception as exc:  # closing a broken connection may fail; we drop it anyway
        log.debug("Closing the mailbox failed: %s", exc)


async def _deliver(
    mailbox: Mailbox,
    on_message: Callable[[InboundMessage], Awaitable[None]],
    stop: asyncio.Event,
) -> None:
    """One pass: hand every unprocessed message to on_message, flag those it accepted."""
    for msg in await mailbox.fetch_unprocessed():
        if stop.is_set():
            return
        try:
            await on_message(msg)
        except Exception:
            # Not flagged, so the next pass offers it again; the caller's transaction rolled back.
            log.exception(
                "Handling message uid %s (uidvalidity %s) failed; it will be retried.",
                msg.uid,
                msg.uidvalidity,
            )
            continue
        # Flag only after on_message committed: a crash in between means a redelivery, which
        # the caller deduplicates by (uidvalidity, uid), never a lost message.
        await mailbox.mark_processed(msg)


async def run_listener(
    mailbox: Mailbox,
    on_message: Callable[[InboundMessage], Awaitable[None]],
    stop: asyncio.Event,
    *,
    idle_timeout: float = 540,
    backoff_max: float = 60,
) -> None:
    """Deliver every new message of ``mailbox`` to ``on_message`` until ``stop`` is set.

    Connection failures never end the loop: the mailbox is closed and reopened after an
    exponentially growing pause (capped at ``backoff_max``). ``stop`` is honoured while
    connecting, idling and backing off; an ``on_message`` call already running is let finish.
    """
    backoff = _BACKOFF_START
    connected = False
    try:
        while not stop.is_set():
            try:
                if not connected:
                    finished, _ = await _unless_stopped(mailbox.connect(), stop)
                    if not finished:
                        return
                    connected = True
                    log.info("Mailbox connected.")
                await _deliver(mailbox, on_message, stop)
                backoff = _BACKOFF_START  # a full pass worked: the connection is healthy
                if stop.is_set():
                    return
                await _unless_stopped(mailbox.wait_for_new(idle_timeout), stop)
            except Exception as exc:  # the listener must outlive any failure: reconnect
                if isinstance(exc, TransportError):
                    log.warning("Mailbox connection failed: %s Retrying in %.1f s.", exc, backoff)
                else:  # a bug or an unmapped error: keep listening, but show the traceback
                    log.exception("Unexpected mailbox error; retrying in %.1f s.", backoff)
                connected = False
                await _close_quietly(mailbox)
                try:
                    await asyncio.wait_for(stop.wait(), backoff)
                except TimeoutError:
                    pass
                backoff = min(backoff * 2, backoff_max)
    finally:
        if connected:
            await _close_quietly(mailbox)
