"""Mail transports against real servers: aiosmtpd (STARTTLS+AUTH) and Dovecot (IMAP IDLE)."""

from __future__ import annotations

import asyncio
import contextlib
import email.message
import email.policy
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.transports import (
    ImapMailbox,
    InboundMessage,
    MaildirMailbox,
    MaildirSender,
    SmtpSender,
    TransportError,
    run_listener,
)

# A listener that only polled would take this long to see new mail; IDLE must beat it easily.
LONG_POLL = 60.0


def make_message(subject: str, body: str = "Hallo,\n\nAKKOORD\n") -> email.message.EmailMessage:
    msg = email.message.EmailMessage()
    msg["From"] = "Karolien Piskor <karolien@mooi.example>"
    msg["To"] = "bot@example.test"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@mooi.example>"
    msg.set_content(body)
    return msg


def raw(subject: str) -> bytes:
    return make_message(subject).as_bytes(policy=email.policy.SMTP)


class Probe:
    """Wraps a Mailbox to count connections and tell when the listener starts idling."""

    def __init__(self, inner: ImapMailbox) -> None:
        self.inner = inner
        self.connects = 0
        self.idling = asyncio.Event()

    async def connect(self) -> None:
        await self.inner.connect()
        self.connects += 1

    async def fetch_unprocessed(self) -> list[InboundMessage]:
        return await self.inner.fetch_unprocessed()

    async def mark_processed(self, msg: InboundMessage) -> None:
        await self.inner.mark_processed(msg)

    async def wait_for_new(self, timeout: float) -> None:  # noqa: ASYNC109
        self.idling.set()
        try:
            await self.inner.wait_for_new(timeout)
        finally:
            self.idling.clear()

    async def close(self) -> None:
        await self.inner.close()


class Collector:
    """on_message callback that queues what it gets; may be told to fail."""

    def __init__(self, fail: Callable[[InboundMessage], bool] = lambda m: False) -> None:
        self.queue: asyncio.Queue[tuple[float, InboundMessage]] = asyncio.Queue()
        self.calls: list[InboundMessage] = []
        self.fail = fail

    async def __call__(self, msg: InboundMessage) -> None:
        self.calls.append(msg)
        if self.fail(msg):
            raise RuntimeError("database unavailable (simulated)")
        await self.queue.put((time.monotonic(), msg))

    async def next(self, within: float = 10) -> InboundMessage:
        _, msg = await asyncio.wait_for(self.queue.get(), within)
        return msg


@contextlib.asynccontextmanager
async def listening(
    mailbox: object, on_message: Callable[[InboundMessage], Awaitable[None]], **kwargs: float
) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_listener(mailbox, on_message, stop, **kwargs))  # type: ignore[arg-type]
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


def subject_of(msg: InboundMessage) -> str:
    return str(email.message_from_bytes(msg.raw, policy=email.policy.default)["Subject"])


class Proxy:
    """TCP relay to Dovecot that can cut its connections or silently stop relaying on them."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._conns: list[dict] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        conn = {"writers": (writer, up_writer), "frozen": False}
        self._conns.append(conn)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    if not conn["frozen"]:  # frozen: swallow bytes, like a dead NAT entry
                        dst.write(data)
                        await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

    def cut(self) -> None:
        """Close every relayed connection at once (the client sees the socket close)."""
        for conn in self._conns:
            for w in conn["writers"]:
                w.transport.abort()
        self._conns.clear()

    def freeze(self) -> None:
        """Keep every relayed connection open but relay nothing more (a silent drop)."""
        for conn in self._conns:
            conn["frozen"] = True

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()


# -- SMTP ----------------------------------------------------------------------------------


async def test_smtp_sends_through_starttls_and_auth(smtpd) -> None:
    smtpd.clear()
    sender = SmtpSender(
        smtpd.host,
        smtpd.port,
        username=smtpd.username,
        password=smtpd.password,
        tls_context=smtpd.tls_context,
    )
    msg = make_message("Uw verwerkersovereenkomst", "Beste Karolien,\n\nZie bijlage.\n")
    msg.add_attachment(b"%PDF-1.7 test", maintype="application", subtype="pdf", filename="dpa.pdf")
    await sender.send(msg)
    [got] = await smtpd.wait_for(1)
    assert got.mail_from == "karolien@mooi.example"
    assert got.rcpt_tos == ["bot@example.test"]
    parsed = email.message_from_bytes(got.raw, policy=email.policy.default)
    assert parsed["Subject"] == "Uw verwerkersovereenkomst"
    assert parsed["Message-ID"] == msg["Message-ID"]
    part = parsed.get_body(("plain",))
    assert part is not None
    body = part.get_content().replace("\r\n", "\n")  # CRLF on the wire
    assert body == "Beste Karolien,\n\nZie bijlage.\n"
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_content() == b"%PDF-1.7 test"


async def test_smtp_send_raw_takes_the_envelope_from_the_headers(smtpd) -> None:
    # Display names encoded, with commas and accents, several recipients, Cc, and a Bcc that
    # must not reach the server's copy.
    smtpd.clear()
    sender = SmtpSender(
        smtpd.host,
        smtpd.port,
        username=smtpd.username,
        password=smtpd.password,
        tls_context=smtpd.tls_context,
    )
    msg = make_message("Envelope", "x\n")
    del msg["From"], msg["To"]
    msg["From"] = '"Peeters, Sofie – iBeauty" <dpa@ibeauty.example>'
    msg["To"] = 'Désiré Dupont <desire@klant.example>, "Smet, An" <an@klant.example>'
    msg["Cc"] = "Élise <elise@klant.example>"
    raw = bytes(msg)
    await sender.send_raw(raw)
    with_bcc = email.message_from_bytes(raw, policy=email.policy.default)
    with_bcc["Bcc"] = "archief@ibeauty.example"
    await sender.send_raw(bytes(with_bcc))
    first, second = await smtpd.wait_for(2)
    assert first.mail_from == "dpa@ibeauty.example"
    assert first.rcpt_tos == ["desire@klant.example", "an@klant.example", "elise@klant.example"]
    assert first.raw.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    assert second.rcpt_tos == [*first.rcpt_tos, "archief@ibeauty.example"]
    assert b"archief@" not in second.raw


async def test_smtp_wrong_password_is_a_transport_error(smtpd) -> None:
    smtpd.clear()
    sender = SmtpSender(
        smtpd.host,
        smtpd.port,
        username=smtpd.username,
        password="not-the-password",
        tls_context=smtpd.tls_context,
        timeout=5,
    )
    with pytest.raises(TransportError) as info:
        await asyncio.wait_for(sender.send(make_message("x")), 10)
    assert "bot@example.test" in str(info.value)
    assert "not-the-password" not in str(info.value)
    assert smtpd.messages == []


async def test_smtp_untrusted_certificate_is_a_transport_error(smtpd) -> None:
    sender = SmtpSender(
        smtpd.host, smtpd.port, username=smtpd.username, password=smtpd.password, timeout=5
    )
    with pytest.raises(TransportError, match=r"bot@example\.test"):
        await sender.send(make_message("x"))


async def test_smtp_session_reconnects_after_the_server_drops_it(tmp_path: Path) -> None:
    from tests.fixtures.smtpd import Smtpd

    # A relay that cuts connections idle for half a second (real ones do after minutes).
    server = Smtpd(tmp_path, idle_timeout=0.5)
    server.start()
    try:
        sender = SmtpSender(
            server.host,
            server.port,
            username=server.username,
            password=server.password,
            tls_context=server.tls_context,
            timeout=5,
        )
        mails = [bytes(make_message(f"mail {i}")) for i in range(3)]
        async with sender.session() as send:
            await send(mails[0])
            await asyncio.sleep(1.5)  # the server hangs up meanwhile
            try:
                await send(mails[1])
            except TransportError as exc:  # the cut connection, said plainly; its job retries it
                assert "bot@example.test" in str(exc)
                await send(mails[1])
            await send(mails[2])
        got = await server.wait_for(3)
        assert [str(email.message_from_bytes(g.raw)["Subject"]) for g in got] == [
            "mail 0",
            "mail 1",
            "mail 2",
        ]
        # The first connection before the hang-up, one new one after it.
        assert got[0].peer != got[1].peer and got[1].peer == got[2].peer
    finally:
        server.stop()


# -- IMAP ----------------------------------------------------------------------------------


def imap(dovecot, user: str, **kwargs: float) -> ImapMailbox:
    return ImapMailbox(dovecot.host, dovecot.port, user, "secret", **kwargs)  # type: ignore[arg-type]


async def test_imap_reads_uidvalidity_and_fetches_raw(dovecot) -> None:
    user = dovecot.new_user()
    original = raw("Re: verwerkersovereenkomst")
    await dovecot.append(original, user=user)
    mailbox = imap(dovecot, user)
    await mailbox.connect()
    try:
        assert mailbox.uidvalidity > 0
        [msg] = await mailbox.fetch_unprocessed()
        assert (msg.uidvalidity, msg.uid) == (mailbox.uidvalidity, 1)
        assert msg.raw == original
        assert b"AKKOORD" not in repr(msg).encode()  # bodies never end up in logs
        await mailbox.mark_processed(msg)
        assert await mailbox.fetch_unprocessed() == []
    finally:
        await mailbox.close()
    assert "$DpabotStored" in (await dovecot.flags(user))[1]


async def test_imap_wrong_password_is_a_transport_error(dovecot) -> None:
    mailbox = ImapMailbox(dovecot.host, dovecot.port, dovecot.user, "wrong", timeout=10)
    with pytest.raises(TransportError, match="refused the login"):
        await mailbox.connect()


async def test_imap_idle_delivers_a_pushed_message_once(dovecot) -> None:
    user = dovecot.new_user()
    mailbox = Probe(imap(dovecot, user))
    got = Collector()
    async with listening(mailbox, got, idle_timeout=LONG_POLL):
        await asyncio.wait_for(mailbox.idling.wait(), 5)
        await asyncio.sleep(0.3)  # let the IDLE command reach the server
        sent = time.monotonic()
        await dovecot.append(raw("pushed"), user=user)
        msg = await got.next(within=10)
        delay = time.monotonic() - sent
        assert subject_of(msg) == "pushed"
        assert delay < 5, f"took {delay:.1f} s: IDLE push not seen"
        await asyncio.wait_for(mailbox.idling.wait(), 5)  # flagged, idling again
    assert "$DpabotStored" in (await dovecot.flags(user))[msg.uid]
    # A fresh connection (as after a restart of the bot) does not deliver it again.
    again = Collector()
    fresh = Probe(imap(dovecot, user))
    async with listening(fresh, again, idle_timeout=LONG_POLL):
        await asyncio.wait_for(fresh.idling.wait(), 5)
    assert again.calls == []
    assert mailbox.connects == 1


async def test_imap_keepalives_do_not_end_idle_early(dovecot) -> None:
    # The fixture's Dovecot sends "* OK Still here" every 2 s; only real changes should wake us.
    mailbox = imap(dovecot, dovecot.new_user())
    await mailbox.connect()
    try:
        started = time.monotonic()
        await mailbox.wait_for_new(4.5)
        assert time.monotonic() - started > 4
    finally:
        await mailbox.close()


async def test_failing_handler_does_not_stop_the_loop_and_is_retried(dovecot) -> None:
    user = dovecot.new_user()
    await dovecot.append(raw("first"), user=user)
    await dovecot.append(raw("second"), user=user)
    failures = {"first": 1}

    def fail_once(msg: InboundMessage) -> bool:
        subject = subject_of(msg)
        if failures.get(subject, 0) > 0:
            failures[subject] -= 1
            return True
        return False

    got = Collector(fail_once)
    async with listening(imap(dovecot, user), got, idle_timeout=1):
        assert subject_of(await got.next()) == "second"  # the failure did not stop the pass
        assert subject_of(await got.next()) == "first"  # retried on a later pass
    assert [subject_of(m) for m in got.calls] == ["first", "second", "first"]
    flags = await dovecot.flags(user)
    assert all("$DpabotStored" in f for f in flags.values()), flags


async def test_listener_reconnects_after_dovecot_restart(dovecot) -> None:
    user = dovecot.new_user()
    mailbox = Probe(imap(dovecot, user, timeout=5))
    got = Collector()
    async with listening(mailbox, got, idle_timeout=LONG_POLL, backoff_max=1):
        await asyncio.wait_for(mailbox.idling.wait(), 5)
        await dovecot.append(raw("before"), user=user)
        assert subject_of(await got.next()) == "before"
        await asyncio.to_thread(dovecot.restart)
        await dovecot.append(raw("after"), user=user)
        assert subject_of(await got.next(within=15)) == "after"
    assert mailbox.connects >= 2
    assert [subject_of(m) for m in got.calls] == ["before", "after"]


async def test_listener_reconnects_after_the_socket_is_closed(dovecot) -> None:
    user = dovecot.new_user()
    proxy = Proxy(dovecot.host, dovecot.port)
    await proxy.start()
    mailbox = Probe(ImapMailbox("127.0.0.1", proxy.port, user, "secret", timeout=5))
    got = Collector()
    try:
        async with listening(mailbox, got, idle_timeout=LONG_POLL, backoff_max=1):
            await asyncio.wait_for(mailbox.idling.wait(), 5)
            await asyncio.sleep(0.5)  # inside IDLE by now
            proxy.cut()
            started = time.monotonic()
            while mailbox.connects < 2:  # noticed at once, not after the idle period
                assert time.monotonic() - started < 5, "closed socket not noticed"
                await asyncio.sleep(0.05)
            await asyncio.wait_for(mailbox.idling.wait(), 5)
            await dovecot.append(raw("after cut"), user=user)
            assert subject_of(await got.next()) == "after cut"
    finally:
        await proxy.stop()


async def test_listener_detects_a_silent_drop(dovecot) -> None:
    # aioimaplib issue #110: nothing tells the client; the end of the IDLE period must.
    user = dovecot.new_user()
    proxy = Proxy(dovecot.host, dovecot.port)
    await proxy.start()
    mailbox = Probe(ImapMailbox("127.0.0.1", proxy.port, user, "secret", timeout=2))
    got = Collector()
    try:
        async with listening(mailbox, got, idle_timeout=2, backoff_max=1):
            await asyncio.wait_for(mailbox.idling.wait(), 5)
            await asyncio.sleep(0.5)  # inside IDLE by now
            proxy.freeze()
            await dovecot.append(raw("during outage"), user=user)
            assert subject_of(await got.next(within=15)) == "during outage"
        assert mailbox.connects >= 2
    finally:
        await proxy.stop()


async def test_stop_ends_an_idling_listener_promptly(dovecot) -> None:
    mailbox = Probe(imap(dovecot, dovecot.new_user()))
    stop = asyncio.Event()
    task = asyncio.create_task(run_listener(mailbox, Collector(), stop, idle_timeout=LONG_POLL))
    await asyncio.wait_for(mailbox.idling.wait(), 5)
    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, 5)
    assert time.monotonic() - started < 1


async def test_listener_keeps_retrying_while_the_server_is_down() -> None:
    mailbox = Probe(ImapMailbox("127.0.0.1", 1, "nobody@example.test", "x", timeout=1))
    stop = asyncio.Event()
    task = asyncio.create_task(run_listener(mailbox, Collector(), stop, backoff_max=0.2))
    await asyncio.sleep(1.5)
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, 2)


# -- Maildir twin --------------------------------------------------------------------------


async def test_maildir_round_trip(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    await MaildirSender(inbox).send(make_message("one"))
    mailbox = MaildirMailbox(inbox)
    got = Collector()
    async with listening(mailbox, got, idle_timeout=LONG_POLL):
        first = await got.next(within=5)
        sent = time.monotonic()
        await MaildirSender(inbox).send(make_message("two"))
        second = await got.next(within=5)
        assert time.monotonic() - sent < 2
    assert [subject_of(first), subject_of(second)] == ["one", "two"]
    assert (first.uid, second.uid) == (1, 2)
    assert first.uidvalidity == second.uidvalidity
    assert b"AKKOORD" in first.raw

    # Restarted: same UIDVALIDITY and UIDs, nothing delivered twice, new mail gets uid 3.
    again = MaildirMailbox(inbox)
    await again.connect()
    assert again.uidvalidity == first.uidvalidity
    assert await again.fetch_unprocessed() == []
    await MaildirSender(inbox).send(make_message("three"))
    [third] = await again.fetch_unprocessed()
    assert (third.uid, subject_of(third)) == (3, "three")
    await again.close()
