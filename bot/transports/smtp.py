"""SMTP sender over aiosmtplib: STARTTLS or implicit TLS, AUTH, errors naming the recipient."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.message
import email.parser
import email.policy
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import aiosmtplib
import aiosmtplib.email

from bot.transports.errors import TransportError
from bot.transports.smtp_wire import sendmail_wire

log = logging.getLogger(__name__)


class SmtpSender:
    """Sends a message over a connection of its own, or many over one (session())."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        use_tls: bool = False,
        tls_context: ssl.SSLContext | None = None,
        timeout: float = 30,
        connections: int = 4,
    ) -> None:
        if starttls and use_tls:
            starttls = False  # implicit TLS already encrypts; STARTTLS on top is an error
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.starttls = starttls
        self.use_tls = use_tls
        self.tls_context = tls_context
        self.timeout = timeout
        self.connections = max(1, connections)
        self._pool: _Pool | None = None

    def __repr__(self) -> str:
        return f"SmtpSender({self.host}:{self.port})"

    async def send(self, msg: email.message.EmailMessage) -> None:
        """Deliver ``msg`` to the recipients in its To/Cc/Bcc headers."""
        to = ", ".join(str(a) for h in ("To", "Cc", "Bcc") for a in msg.get_all(h, [])) or "?"
        await self._send(msg, to, label=str(msg.get("Message-ID", "a message")))

    async def send_raw(self, raw: bytes) -> None:
        """Deliver a stored message byte for byte, the envelope from its headers (a message with
        a Bcc header is parsed and sent without it)."""
        async with self.session() as send:
            await send(raw)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Callable[[bytes], Awaitable[None]]]:
        """A send_raw that keeps one connection for many mails (a bulk send's batch).

        A connection costs a TLS handshake and a login on both sides, more than sending a mail
        with its PDF: it outlives the session and the next session takes it up again. At most
        ``connections`` sessions are open at once (the rest wait for one): a relay limits how
        many a client may hold. A mail the server refuses leaves the connection in use; any
        other failure (a cut connection, a timeout) closes it, and the next mail opens a new one.
        """
        pool = self._current_pool()
        async with pool.slots:
            connection = pool.take()
            try:
                yield connection.send
            finally:
                if not pool.give_back(connection):
                    await connection.close()

    def _current_pool(self) -> _Pool:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._pool.loop is not loop:  # connections live on one loop
            self._pool = _Pool(self, loop)
        return self._pool

    async def aclose(self) -> None:
        """Close the connections kept for the next session."""
        pool, self._pool = self._pool, None
        if pool is not None and pool.loop is asyncio.get_running_loop():
            for connection in pool.idle:
                await connection.close()

    @contextlib.contextmanager
    def _explained(self, to: str) -> Iterator[None]:
        """aiosmtplib's errors as TransportErrors that say what went wrong in plain words."""
        try:
            yield
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise TransportError(
                f"The SMTP server {self.host}:{self.port} rejected the login of {self.username}"
                f" while sending to {to} ({exc.code} {exc.message}); check the credentials."
            ) from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(f"{e.recipient} ({e.code} {e.message})" for e in exc.recipients)
            raise TransportError(
                f"The SMTP server refused every recipient: {refused}.",
                permanent=all(e.code >= 500 for e in exc.recipients),
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise TransportError(
                f"The SMTP server {self.host}:{self.port} refused the message to {to}:"
                f" {exc.code} {exc.message}",
                permanent=exc.code >= 500,
            ) from exc
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise TransportError(
                f"Could not send the message to {to} through {self.host}:{self.port}: {exc}"
            ) from exc

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self._password,
            use_tls=self.use_tls,
            # True makes STARTTLS mandatory: never fall back to sending in clear text.
            start_tls=self.starttls,
            tls_context=self.tls_context,
            timeout=self.timeout,
        )

    async def _send(self, msg: email.message.EmailMessage, to: str, *, label: str) -> None:
        with self._explained(to):
            async with self._client() as smtp:  # connects, STARTTLS and login included
                responses, _ = await smtp.send_message(msg)
        _check_accepted(responses, label, to)


# A kept connection idle longer than this is closed rather than reused: relays drop idle
# clients after a minute or a few.
IDLE_S = 30.0


class _Pool:
    """The sender's connections on one event loop: the slots, and those kept for reuse."""

    def __init__(self, sender: SmtpSender, loop: asyncio.AbstractEventLoop) -> None:
        self.sender = sender
        self.loop = loop
        self.slots = asyncio.Semaphore(sender.connections)
        self.idle: list[_Connection] = []

    def take(self) -> _Connection:
        while self.idle:
            connection = self.idle.pop()
            if self.loop.time() - connection.used_at < IDLE_S:
                connection.reused = True
                return connection
            self.loop.create_task(connection.close())  # too long idle: closed, not reused
        return _Connection(self.sender)

    def give_back(self, connection: _Connection) -> bool:
        if connection.smtp is None or not connection.smtp.is_connected:
            return False
        connection.used_at = self.loop.time()
        self.idle.append(connection)
        return True


class _Connection:
    """SmtpSender.session()'s connection, opened on the first mail and after a failure."""

    def __init__(self, sender: SmtpSender) -> None:
        self.sender = sender
        self.smtp: aiosmtplib.SMTP | None = None
        self.used_at = 0.0
        self.reused = False  # taken up from an earlier session: the server may have dropped it

    async def close(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError, ssl.SSLError):
                smtp.close()

    async def _connected(self) -> aiosmtplib.SMTP:
        if self.smtp is None or not self.smtp.is_connected:
            smtp = self.sender._client()
            try:
                await smtp.connect()  # STARTTLS and login included
            except BaseException:
                smtp.close()  # a refused login or a failed STARTTLS: not a connection to keep
                raise
            self.smtp = smtp
        return self.smtp

    async def send(self, raw: bytes) -> None:
        reused, self.reused = self.reused, False
        try:
            await self._send(raw)
        except TransportError as exc:
            # A kept connection the server closed while it was idle: once more on a new one.
            if not reused or not isinstance(exc.__cause__, aiosmtplib.SMTPServerDisconnected):
                raise
            await self.close()
            await self._send(raw)

    async def _send(self, raw: bytes) -> None:
        headers = header_block(raw)
        if headers.get_all("Bcc"):  # only a parsed message has its Bcc header removed
            await self.sender.send(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
            return
        sender = aiosmtplib.email.extract_sender(headers)
        recipients = aiosmtplib.email.extract_recipients(headers)
        to = ", ".join(recipients) or "?"
        label = str(headers.get("Message-ID", "a message"))
        if not sender or not recipients:
            raise TransportError(f"The message {label} names no sender or no recipient.")
        options = [] if raw.isascii() else ["BODY=8BITMIME"]
        if not "".join([sender or "", *recipients]).isascii():
            options.append("SMTPUTF8")
        try:
            with self.sender._explained(to):
                smtp = await self._connected()
                try:
                    responses = await sendmail_wire(
                        smtp, sender, recipients, raw, mail_options=options
                    )
                except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException):
                    raise  # the server said no in order (aiosmtplib reset the envelope)
                except BaseException:
                    await self.close()  # a connection in an unknown state is not reused
                    raise
        except TransportError as exc:
            cause = exc.__cause__
            if (
                options
                and isinstance(cause, aiosmtplib.SMTPSenderRefused)
                and cause.code in (501, 504, 555)
            ):
                # MAIL refused its options (a relay without 8BITMIME): aiosmtplib re-encodes
                # a parsed message for such a server.
                await self.sender.send(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
                return
            raise
        _check_accepted(responses, label, to)


def _check_accepted(responses: dict[str, aiosmtplib.SMTPResponse], label: str, to: str) -> None:
    # aiosmtplib succeeds if at least one recipient was accepted; report the others.
    rejected = {rcpt: r for rcpt, r in responses.items() if not 200 <= r.code < 300}
    if rejected:
        names = ", ".join(f"{rcpt} ({r.code} {r.message})" for rcpt, r in rejected.items())
        raise TransportError(
            f"The SMTP server refused some recipients: {names}.",
            permanent=all(r.code >= 500 for r in rejected.values()),
        )
    log.info("Sent %s to %s.", label, to)


def header_block(raw: bytes) -> email.message.Message:
    """The headers of a raw message, parsed without reading its body."""
    # A mail with CRLF line ends (every stored one) has no LF LF: search for it only within
    # the header block, not through the whole body.
    end = raw.find(b"\r\n\r\n")
    bare = raw.find(b"\n\n", 0, end if end >= 0 else len(raw))
    end = bare if bare >= 0 else end
    head = raw if end < 0 else raw[: end + 1]
    # compat32: the header values as written (aiosmtplib takes the addresses out of them) at a
    # fifth of the CPU of the default policy's header objects, paid for every mail sent.
    return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
