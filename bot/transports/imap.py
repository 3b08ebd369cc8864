"""IMAP mailbox over aioimaplib: UID search/fetch/flag and IDLE with liveness checks."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import ssl as ssl_module
from collections.abc import Awaitable
from typing import Any, TypeVar

import aioimaplib

from bot.transports.errors import TransportError
from bot.transports.mail import InboundMessage

log = logging.getLogger(__name__)

# aioimaplib logs every byte received at DEBUG level, message bodies included; we never want
# customer mail in our logs, so unless someone configured that logger on purpose, mute DEBUG.
_lib_log = logging.getLogger("aioimaplib.aioimaplib")
if _lib_log.level == logging.NOTSET:
    _lib_log.setLevel(logging.INFO)

_T = TypeVar("_T")

# RFC 2177 asks clients to re-issue IDLE at least every 29 minutes; NATs and firewalls drop
# quiet connections sooner, so we never idle longer than 9 minutes.
MAX_IDLE = 540.0

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_SEARCH_DATA = re.compile(rb"[0-9 ]*")
# Untagged responses that mean the mailbox changed (keep-alives such as "OK Still here" do not).
_CHANGE = re.compile(rb"^\*? ?\d+ (EXISTS|RECENT|EXPUNGE|FETCH)\b")
# Put into aioimaplib's IDLE queue when the socket closes, so a waiting IDLE wakes up at once.
_LOST = [b"dpabot: connection lost"]


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapMailbox:
    """One IMAP folder: new mail is what lacks our keyword; handled mail gets the keyword."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        ssl: bool = False,
        folder: str = "INBOX",
        processed_flag: str = "$DpabotStored",
        timeout: float = 30,
        ssl_context: ssl_module.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self._ssl = ssl
        self._ssl_context = ssl_context
        self.folder = folder
        self.processed_flag = processed_flag
        self.timeout = timeout
        self._client: aioimaplib.IMAP4 | None = None
        self._lost = asyncio.Event()
        self._done_sent = False  # DONE already sent for the current IDLE
        self._uidvalidity: int | None = None

    def __repr__(self) -> str:
        return f"ImapMailbox({self.username}@{self.host}:{self.port}/{self.folder})"

    @property
    def uidvalidity(self) -> int:
        """UIDVALIDITY of the selected folder; UIDs are only unique together with it."""
        if self._uidvalidity is None:
            raise TransportError(f"{self!r} is not connected, so its UIDVALIDITY is unknown.")
        return self._uidvalidity

    async def connect(self) -> None:
        """Open a connection, log in and select the folder (closing any previous connection)."""
        await self.close()
        lost = asyncio.Event()
        client: aioimaplib.IMAP4
        if self._ssl:
            client = aioimaplib.IMAP4_SSL(
                self.host, self.port, timeout=self.timeout, ssl_context=self._ssl_context
            )
        else:
            client = aioimaplib.IMAP4(self.host, self.port, timeout=self.timeout)
        # Set on the protocol rather than the constructor: IMAP4_SSL does not pass it through.
        client.protocol.conn_lost_cb = lambda exc: self._on_lost(client, lost)
        self._client, self._lost = client, lost
        try:
            await self._run(client.wait_hello_from_server(), "connect")
            response = await self._run(client.login(self.username, self._password), "log in")
            if response.result != "OK":
                raise TransportError(
                    f"The IMAP server {self.host}:{self.port} refused the login of"
                    f" {self.username}; check the user name and password."
                )
            if not client.has_capability("IDLE"):
                raise TransportError(f"The IMAP server {self.host}:{self.port} lacks IDLE.")
            response = await self._run(client.select(_quote(self.folder)), "select the folder")
            self._check(response, f"select the folder {self.folder}")
            self._uidvalidity = self._parse_uidvalidity(response.lines)
        except BaseException:
            await self.close()
            raise
        log.debug("%r selected, UIDVALIDITY %s.", self, self._uidvalidity)

    async def fetch_unprocessed(self) -> list[InboundMessage]:
        """Return every message of the folder that lacks our keyword, in UID order."""
        client = self._connected()
        response = await self._run(
            client.uid_search("UNKEYWORD", self.processed_flag, charset=None), "search"
        )
        self._check(response, "search for new messages")
        uids = sorted(
            int(token)
            for line in response.lines[:-1]  # the last line is the tagged status text
            if isinstance(line, bytes) and _SEARCH_DATA.fullmatch(line)
            for token in line.split()
        )
        messages = []
        for uid in uids:
            raw = await self._fetch(client, uid)
            if raw is not None:
                messages.append(InboundMessage(self.uidvalidity, uid, raw))
        return messages

    async def mark_processed(self, msg: InboundMessage) -> None:
        """Add our keyword to ``msg`` so no later pass or reconnect delivers it again."""
        client = self._connected()
        if msg.uidvalidity != self._uidvalidity:
            # The server renumbered the folder: this UID may now name another message.
            raise TransportError(
                f"UIDVALIDITY of {self!r} changed from {msg.uidvalidity} to {self._uidvalidity};"
                f" message uid {msg.uid} was not flagged and will be fetched again."
            )
        response = await self._run(
            client.uid("store", str(msg.uid), "+FLAGS.SILENT", f"({self.processed_flag})"),
            f"flag message uid {msg.uid}",
        )
        self._check(response, f"flag message uid {msg.uid}")

    async def wait_for_new(self, timeout: float) -> None:  # noqa: ASYNC109 - the interface's own deadline, not a cancel scope
        """IDLE until the folder changes or ``timeout`` (at most 540 s) passes, then NOOP.

        aioimaplib does not notice a connection dropped during IDLE (its issue #110): a
        closed socket is caught by our connection-lost hook, a silent drop by the timeouts on
        ending IDLE and on the NOOP that follows. Both raise TransportError.
        """
        client = self._connected()
        loop = asyncio.get_running_loop()
        period = max(0.0, min(timeout, MAX_IDLE))
        deadline = loop.time() + period
        queue = client.protocol.idle_queue
        # Anything queued before this IDLE predates the search that preceded it: drop it.
        while not queue.empty():
            queue.get_nowait()
        self._done_sent = False
        idle = await self._run(client.idle_start(timeout=period), "start IDLE")
        try:
            while (remaining := deadline - loop.time()) > 0:
                try:
                    lines = await client.wait_server_push(remaining)
                except TimeoutError:
                    break
                if lines is _LOST or self._lost.is_set():
                    raise TransportError(f"The connection to {self!r} was lost during IDLE.")
                if lines == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break
                if any(isinstance(x, bytes) and _CHANGE.match(x) for x in lines):
                    break
                # A keep-alive ("OK Still here"): the link is alive, keep waiting.
        finally:
            if not self._lost.is_set() and client.has_pending_idle():
                client.idle_done()
                # A second DONE (from close() after a cancel) is a BAD command to the server.
                self._done_sent = True
        await self._run(idle, "end IDLE")
        response = await self._run(client.noop(), "check the connection with NOOP")
        self._check(response, "check the connection with NOOP")

    async def close(self) -> None:
        """Log out if the connection still works, then drop it; safe to call at any time."""
        client, self._client, self._uidvalidity = self._client, None, None
        if client is None:
            return
        try:
            if not self._lost.is_set() and client.protocol.transport is not None:
                if client.has_pending_idle() and not self._done_sent:
                    client.idle_done()
                await asyncio.wait_for(client.logout(), min(self.timeout, 5))
        except Exception as exc:  # a logout that fails changes nothing: we leave
            log.debug("Logout from %r failed: %s", self, exc)
        finally:
            transport = client.protocol.transport
            if transport is not None:
                transport.close()
            else:  # still connecting (e.g. connect timed out): abandon the attempt
                client._client_task.cancel()
            # aioimaplib's own helper tasks (IDLE, its acknowledgement) wait forever on a dead
            # connection; cancel them rather than leave them to be destroyed pending.
            for task in [*client.tasks, *client.protocol.tasks]:
                task.cancel()

    # -- helpers -------------------------------------------------------------------------

    def _on_lost(self, client: aioimaplib.IMAP4, lost: asyncio.Event) -> None:
        lost.set()
        client.protocol.idle_queue.put_nowait(_LOST)

    def _connected(self) -> aioimaplib.IMAP4:
        if self._client is None:
            raise TransportError(f"{self!r} is not connected; call connect() first.")
        return self._client

    async def _run(self, aw: Awaitable[_T], what: str) -> _T:
        """Await an aioimaplib call, failing fast on a lost connection and after the timeout."""
        lost = self._lost
        task = asyncio.ensure_future(aw)
        if lost.is_set():
            task.cancel()
            raise TransportError(f"The connection to {self!r} is lost; cannot {what}.")
        watcher = asyncio.ensure_future(lost.wait())
        try:
            await asyncio.wait(
                {task, watcher}, timeout=self.timeout, return_when=asyncio.FIRST_COMPLETED
            )
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            watcher.cancel()
        if not task.done():
            task.cancel()
            if lost.is_set():
                raise TransportError(f"The connection to {self!r} was lost; could not {what}.")
            raise TransportError(
                f"{self!r} did not answer within {self.timeout:g} s; could not {what}."
            )
        try:
            return task.result()
        except TransportError:
            raise
        except (aioimaplib.AioImapException, OSError, TimeoutError, ValueError) as exc:
            reason = str(exc) or type(exc).__name__
            raise TransportError(f"Could not {what} on {self!r}: {reason}.") from exc

    def _check(self, response: Any, what: str) -> None:
        if response.result != "OK":
            text = response.lines[-1] if response.lines else b""
            reason = text.decode("ascii", "replace") if isinstance(text, bytes) else str(text)
            raise TransportError(f"{self!r} refused to {what}: {response.result} {reason}")

    def _parse_uidvalidity(self, lines: list[Any]) -> int:
        for line in lines:
            if isinstance(line, bytes) and (match := _UIDVALIDITY.search(line)):
                return int(match.group(1))
        raise TransportError(f"{self!r} sent no UIDVALIDITY when selecting the folder.")

    async def _fetch(self, client: aioimaplib.IMAP4, uid: int) -> bytes | None:
        response = await self._run(
            client.uid("fetch", str(uid), "(BODY.PEEK[])"), f"fetch message uid {uid}"
        )
        self._check(response, f"fetch message uid {uid}")
        lines = response.lines
        # aioimaplib yields [b'<n> FETCH (UID <uid> BODY[] {size}', bytearray(body), b')', ...].
        for head, body in itertools.pairwise(lines):
            if (
                isinstance(head, bytes)
                and b"BODY[]" in head
                and head.endswith(b"}")
                and isinstance(body, bytes | bytearray)
            ):
                return bytes(body)
        # Expunged by someone else between SEARCH and FETCH: nothing to deliver.
        log.info("Message uid %s of %r vanished before it could be fetched.", uid, self)
        return None
