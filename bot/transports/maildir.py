"""Local twins of SMTP and IMAP over Maildir folders, for the demo and tests without servers."""

from __future__ import annotations

import asyncio
import contextlib
import email.message
import json
import mailbox
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from bot.transports.errors import TransportError
from bot.transports.mail import InboundMessage

_STATE_FILE = ".dpabot-uids"  # {"uidvalidity": n, "next_uid": n, "uids": {key: uid}}
_POLL_INTERVAL = 0.2  # local folder: polling is cheap and needs no inotify


class MaildirSender:
    """Delivers each outgoing message into a Maildir instead of to an SMTP server."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    async def send(self, msg: email.message.EmailMessage) -> None:
        try:
            await asyncio.to_thread(self._add, msg)
        except OSError as exc:
            raise TransportError(
                f"Could not write the message to {msg['To']} into the Maildir {self.path}: {exc}"
            ) from exc

    async def send_raw(self, raw: bytes) -> None:
        """Deliver a stored message byte for byte."""
        try:
            await asyncio.to_thread(self._add, raw)
        except OSError as exc:
            raise TransportError(
                f"Could not write a message into the Maildir {self.path}: {exc}"
            ) from exc

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Callable[[bytes], Awaitable[None]]]:
        """SmtpSender.session()'s twin: nothing to keep open between mails here."""
        yield self.send_raw

    async def aclose(self) -> None:
        """Nothing is kept open between sends."""

    def _add(self, msg: email.message.EmailMessage | bytes) -> None:
        mailbox.Maildir(self.path, create=True).add(msg)


class MaildirMailbox:
    """The Mailbox protocol over a local Maildir: UIDs kept in a JSON file, processed = a flag.

    The UIDVALIDITY is chosen once (the creation time) and stored with the UID map, so UIDs
    stay stable across restarts just as IMAP's do.
    """

    def __init__(self, path: str | os.PathLike[str], *, processed_flag: str = "S") -> None:
        self.path = Path(path)
        self.processed_flag = processed_flag
        self._maildir: mailbox.Maildir | None = None
        self._state: dict = {}
        self._known: set[str] = set()

    def __repr__(self) -> str:
        return f"MaildirMailbox({self.path})"

    @property
    def uidvalidity(self) -> int:
        return int(self._load_state()["uidvalidity"])

    async def connect(self) -> None:
        try:
            self._maildir = mailbox.Maildir(self.path, create=True)
            self._state = self._load_state()
        except OSError as exc:
            raise TransportError(f"Could not open the Maildir {self.path}: {exc}") from exc

    async def fetch_unprocessed(self) -> list[InboundMessage]:
        try:
            return await asyncio.to_thread(self._fetch_unprocessed)
        except OSError as exc:
            raise TransportError(f"Could not read the Maildir {self.path}: {exc}") from exc

    async def mark_processed(self, msg: InboundMessage) -> None:
        try:
            await asyncio.to_thread(self._mark_processed, msg)
        except OSError as exc:
            raise TransportError(f"Could not flag message uid {msg.uid} in {self.path}") from exc

    async def wait_for_new(self, timeout: float) -> None:  # noqa: ASYNC109 - the interface's own deadline, not a cancel scope
        """Poll until a message we have not listed yet shows up, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if set(self._files()) - self._known:
                return
            await asyncio.sleep(min(_POLL_INTERVAL, max(0.0, deadline - time.monotonic())))

    async def close(self) -> None:
        self._maildir = None

    # -- helpers -------------------------------------------------------------------------

    def _md(self) -> mailbox.Maildir:
        if self._maildir is None:
            raise TransportError(f"{self!r} is not connected; call connect() first.")
        return self._maildir

    def _files(self) -> dict[str, Path]:
        """Map each message key to its file (new/KEY or cur/KEY:2,FLAGS)."""
        files: dict[str, Path] = {}
        for sub in ("new", "cur"):
            folder = self.path / sub
            if folder.is_dir():
                for entry in os.scandir(folder):
                    if not entry.name.startswith("."):
                        files[entry.name.split(":", 1)[0]] = Path(entry.path)
        return files

    def _flags(self, file: Path) -> str:
        _, _, info = file.name.partition(":2,")
        return info if file.parent.name == "cur" else ""

    def _fetch_unprocessed(self) -> list[InboundMessage]:
        md = self._md()
        files = self._files()
        self._known = set(files)
        uids: dict[str, int] = self._state["uids"]
        # Maildir keys start with the delivery time, so sorting them keeps arrival order.
        fresh = sorted(key for key in files if key not in uids)
        for key in fresh:
            uids[key] = self._state["next_uid"]
            self._state["next_uid"] += 1
        if fresh:
            self._save_state()
        return [
            InboundMessage(self._state["uidvalidity"], uids[key], md.get_bytes(key))
            for key in sorted(files, key=lambda k: uids[k])
            if self.processed_flag not in self._flags(files[key])
        ]

    def _mark_processed(self, msg: InboundMessage) -> None:
        if msg.uidvalidity != self._state["uidvalidity"]:
            raise TransportError(f"UIDVALIDITY of {self!r} changed; uid {msg.uid} not flagged.")
        key = next((k for k, u in self._state["uids"].items() if u == msg.uid), None)
        file = self._files().get(key) if key is not None else None
        if file is None:
            raise TransportError(f"Message uid {msg.uid} is no longer in {self.path}.")
        flags = "".join(sorted(set(self._flags(file)) | {self.processed_flag}))
        # Rename rather than mailbox's __setitem__, which would rewrite the message bytes.
        os.rename(file, self.path / "cur" / f"{key}:2,{flags}")

    def _load_state(self) -> dict:
        state_file = self.path / _STATE_FILE
        if state_file.exists():
            state: dict = json.loads(state_file.read_text())
            return state
        self.path.mkdir(parents=True, exist_ok=True)
        self._state = {"uidvalidity": int(time.time()), "next_uid": 1, "uids": {}}
        self._save_state()
        return self._state

    def _save_state(self) -> None:
        # Write then rename, so a crash never leaves a half-written UID map behind.
        tmp = self.path / f"{_STATE_FILE}.tmp"
        tmp.write_text(json.dumps(self._state))
        os.replace(tmp, self.path / _STATE_FILE)
