"""Customers complete and sign in a Telegram chat: the tenant's bot polls the local Bot API
stand-in, the code mail goes out over SMTP to aiosmtpd, the signed PDF is checked by pyHanko and
pdfsig; the hand-over mail → chat → mail, and every abuse case is answered, recorded and
applied to nothing. A recording error handler fails every test in which a handler raised.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import hashlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import func, select, update

from bot import chat, contracts, mail
from bot.app.demo import customer_reply
from bot.app.telegram import StaffChat
from bot.chat import MAX_TRIES, Incoming
from bot.chat.limits import CODE_LIMIT, CODE_MAILS_PER_HOUR, CONTRACT_MAX_TRIES, LINK_CLOSED
from bot.core.runtime import Runtime
from bot.core.settings import (
    ImapSettings,
    SecretRef,
    SmtpSettings,
    StaffMember,
    TelegramServiceSettings,
    TelegramSettings,
    TenantSettings,
)
from bot.jobs import run_jobs_until_idle
from handlers.customer import STATE_KEY
from handlers.reader.reader import read_reply
from signing import FIELD_CUSTOMER, validate_pdf
from signing.returned import REASONS
from storage.models import (
    ArchiveEntry,
    AuditEvent,
    ChatBinding,
    Contract,
    ContractVersion,
    Message,
    Notification,
    Signature,
)
from tests.fixtures.botapi import BotApi, Call
from tests.fixtures.nss_signer import NssSigner, issue_rsa_cert, make_nss_signer
from tests.fixtures.pki import assert_pdfsig_trusted, nss_db, pdfsig_by_field
from tests.fixtures.runtime import make_tenant, scoped
from tests.integration.test_templates_all import fill_like_a_reader

TOKEN = "333333:AAAA-customer-bot"
TOKEN_B = "444444:BBBB-other-bot"
BOT = "dpabot_test_bot"
ADMIN, GROUP = 1001, -100555
KAROLIEN, MALLORY, EVE = 5001, 5002, 5003


@dataclass
class World:
    rt: Runtime
    api: BotApi
    chat: StaffChat
    a: TenantSettings
    b: TenantSettings
    smtpd: Any
    folder: Path
    errors: list[BaseException] = field(default_factory=list)

    async def say(self, user: int, text: str, token: str = TOKEN) -> list[Call]:
        before = len(self.api.calls)
        self.api.push_message(token, user, user, text)
        return await self.answers(before, user)

    async def press(self, user: int, data: str) -> list[Call]:
        before = len(self.api.calls)
        self.api.push_callback(TOKEN, user, user, data, 1)
        return await self.answers(before, user)

    async def upload(self, user: int, name: str, data: bytes) -> list[Call]:
        before = len(self.api.calls)
        self.api.push_document(TOKEN, user, user, name, data)
        return await self.answers(before, user)

    async def answers(self, before: int, chat: int, quiet: float = 0.4) -> list[Call]:
        return await self.api.answers(before, chat, quiet=quiet, timeout=20)

    def mails(self, to: str, kind: str) -> list[EmailMessage]:
        out = []
        for m in self.smtpd.messages:
            msg = email.message_from_bytes(m.raw, policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            if to in m.rcpt_tos and msg["X-Dpabot-Kind"] == kind:
                out.append(msg)
        return out

    async def jobs(self) -> None:
        await run_jobs_until_idle(self.rt)


def _text(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def _signed_copy(call: Call) -> bool:
    """A sendDocument of the archived, signed contract: by its file name (a word such as
    "ondertekend" may also stand inside an earlier PDF's bytes, e.g. a signature's stamp)."""
    name, _ = call.files.get("document", ("", b""))
    return name.endswith("-ondertekend.pdf")


def _pdf(msg: EmailMessage) -> bytes:
    # The contract; a completion mail also carries the certificate of completion.
    (part,) = [
        p
        for p in msg.iter_attachments()
        if p.get_content_type() == "application/pdf"
        and not (p.get_filename() or "").endswith("-certificaat.pdf")
    ]
    return bytes(part.get_content())


@pytest.fixture
async def world(runtime_factory, botapi, smtpd, monkeypatch, tmp_path) -> AsyncIterator[World]:
    monkeypatch.setenv("DPABOT_TEST_TG_CUST", TOKEN)
    monkeypatch.setenv("DPABOT_TEST_TG_CUST_B", TOKEN_B)
    monkeypatch.setenv("TEST_SMTP_PW", smtpd.password)
    ca = tmp_path / "smtpd.pem"
    ca.write_bytes(smtpd.cert_pem)
    a = make_tenant(
        transport="imap",
        smtp=SmtpSettings(
            host=smtpd.host,
            port=smtpd.port,
            username=smtpd.username,
            password=SecretRef(env="TEST_SMTP_PW"),
            ca_file=ca,
        ),
        # Never polled here: customers' mails are stored as the listener would store them.
        imap=ImapSettings(host="127.0.0.1", username="x", password=SecretRef(env="NONE")),
    )
    a.telegram = TelegramSettings(
        token=SecretRef(env="DPABOT_TEST_TG_CUST"),
        staff_chat_id=GROUP,
        staff=[StaffMember(user_id=ADMIN, name="Anna Admin", role="admin")],
        bot_username=BOT,
        language="en",  # the staff chat's words are read in English here
    )
    b = make_tenant()
    b.telegram = TelegramSettings(
        token=SecretRef(env="DPABOT_TEST_TG_CUST_B"),
        staff=[StaffMember(user_id=4001, name="Bo", role="admin")],
        bot_username="other_test_bot",
    )
    rt = await runtime_factory([a, b])
    rt.settings.telegram = TelegramServiceSettings(base_url=botapi.base_url)
    chat = StaffChat(rt, poll_timeout=1, notify_interval=0.2)
    await chat.start()
    w = World(rt, botapi, chat, a, b, smtpd, tmp_path)

    async def record(update: object, context: Any) -> None:
        w.errors.append(context.error)

    for app in chat.applications:
        app.add_error_handler(record)
    try:
        yield w
    finally:
        await chat.stop()
    assert w.errors == [], f"a chat handler raised: {w.errors!r}"


async def _invite(w: World, email_: str, t: TenantSettings | None = None) -> tuple[int, str]:
    """Invite a customer; (contract id, the deep link's payload from the invitation)."""
    t = t or w.a
    cid = await contracts.add_customer(
        w.rt,
        t.slug,
        name=f"Salon {email_}",
        enterprise_number="BE0840.465.705",
        representative="Karolien Piskor",
        email=email_,
    )
    contract_id = await contracts.invite(w.rt, t.slug, cid)
    await w.jobs()
    async with scoped(w.rt) as s:
        contract = await s.get(Contract, contract_id)
        assert contract is not None and contract.chat_token
        token = contract.chat_token
    if t is w.a:
        (invitation,) = w.mails(email_, "invitation")
        link = f"https://t.me/{BOT}?start={token}"
        assert link in _text(invitation)
    return contract_id, token


async def _bind(w: World, user: int, email_: str, token: str) -> list[Call]:
    """/start with the payload, the code from the mail (aiosmtpd), the first question."""
    (sent,) = await w.say(user, f"/start {token}")
    masked = f"{email_[0]}***@{email_.partition('@')[2]}"
    assert masked in sent.text and "6" in sent.text
    await w.jobs()
    (code_mail,) = [m for m in w.mails(email_, "chat_code")][-1:]
    found = re.search(r"\b(\d{6})\b", _text(code_mail))
    assert found is not None
    assert found[1] not in str(code_mail["Subject"])
    return await w.say(user, found[1])


async def _contract(w: World, contract_id: int) -> Contract:
    async with scoped(w.rt) as s:
        c = await s.get(Contract, contract_id)
        assert c is not None
        return c


async def _wait_state(w: World, contract_id: int, state: str) -> None:
    deadline = time.monotonic() + 60
    while (await _contract(w, contract_id)).state != state:
        assert time.monotonic() < deadline, f"contract never reached {state}"
        await w.jobs()
        await asyncio.sleep(0.1)


async def _store_mail(w: World, raw: bytes, uid: int) -> None:
    """A customer's mail, stored and processed as the listener does."""
    await mail.store_inbound(w.rt, w.a.slug, "INBOX", 1, uid, raw)
    await w.jobs()


# --- the whole flow --------------------------------------------------------------------------


async def test_whole_flow_from_start_to_the_signed_pdf(world: World) -> None:
    w, who = world, "karolien@mooi.example"
    contract_id, token = await _invite(w, who)

    # Before the code: nothing of the contract is shown.
    (sent,) = await w.say(KAROLIEN, f"/start {token}")
    assert "Salon" not in sent.text and "Vraag" not in sent.text
    await w.jobs()
    (code_mail,) = w.mails(who, "chat_code")
    code = re.search(r"\b(\d{6})\b", _text(code_mail))
    assert code is not None
    async with scoped(w.rt) as s:
        b = await s.scalar(select(ChatBinding).where(ChatBinding.contract_id == contract_id))
        assert b is not None and b.status == "pending" and code[1] not in (b.code_hash or "")
        # The stored copy of the sent code mail keeps its headers, not the code.
        stored = await s.scalar(
            select(Message.raw).where(
                Message.contract_id == contract_id, Message.kind == "chat_code"
            )
        )
        assert stored is not None and b"one-time chat code" in stored
        assert code[1].encode() not in stored
    bound, question = await w.say(KAROLIEN, code[1])
    assert "Salon karolien@mooi.example" in bound.text
    assert question.text.startswith("Vraag 1: Onderwerp") and "Voorstel:" in question.text
    assert question.buttons == [("Klopt", "ok:subject"), ("Aanpassen", "edit:subject")]

    # 1: Klopt → question 2.
    (q2,) = await w.press(KAROLIEN, "ok:subject")
    assert q2.text.startswith("Vraag 2")
    # 2: Aanpassen, an invalid duration: the same reason as in a mail's follow-up.
    (ask,) = await w.press(KAROLIEN, "edit:duration")
    assert "Duur" in ask.text
    (invalid,) = await w.say(KAROLIEN, "binnenkort")
    invitation = w.mails(who, "invitation")[0]
    by_mail = read_reply(customer_reply(invitation, "2: binnenkort", who), "ibeauty", {})
    assert by_mail.invalid["duration"] in invalid.text
    (q3,) = await w.say(KAROLIEN, "5 jaar")
    assert q3.text.startswith("Vraag 3")
    # 3: typed straight away (no button) is the answer to the question shown.
    (q4,) = await w.say(KAROLIEN, "Registratie van klantgegevens en afspraken.")
    assert q4.text.startswith("Vraag 4")
    (status, q4again) = await w.say(KAROLIEN, "/status")
    assert "5 jaar" in status.text and "Registratie van klantgegevens" in status.text
    assert "Nog te beantwoorden" in status.text and q4again.text.startswith("Vraag 4")
    (q5,) = await w.press(KAROLIEN, "ok:data_types")
    assert q5.text.startswith("Vraag 5")
    (coming,) = await w.press(KAROLIEN, "ok:data_subjects")
    assert "definitieve versie" in coming.text

    # The final PDF (signed by the processor) and the acceptance button with its SHA-256.
    await _wait_state(w, contract_id, "awaiting_signature")
    await w.jobs()
    docs = await w.api.wait_for("sendDocument", lambda c: c.chat_id == KAROLIEN)
    final_pdf = docs[-1].files["document"][1]
    (final_msg,) = await w.api.wait_for(
        "sendMessage", lambda c: c.chat_id == KAROLIEN and "SHA-256" in c.text
    )
    version = await _version(w, contract_id)
    assert version.sent_pdf_sha256 in final_msg.text
    ((label, data),) = final_msg.buttons
    assert label == "Akkoord, onderteken" and data.startswith("accept:")
    assert [s.field_name for s in PdfFileReader(BytesIO(final_pdf)).embedded_signatures] == [
        "Processor"
    ]

    (thanks,) = await w.press(KAROLIEN, data)
    assert "ondertekenen nu" in thanks.text
    await _wait_state(w, contract_id, "completed")

    # The signed copy in the chat and by mail; valid for pyHanko and pdfsig.
    signed_docs = await w.api.wait_for(
        "sendDocument", lambda c: c.chat_id == KAROLIEN and _signed_copy(c), count=1
    )
    in_chat = signed_docs[-1].files["document"][1]
    await w.jobs()
    (completed,) = w.mails(who, "completed")
    assert _pdf(completed) == in_chat
    report = await validate_pdf(in_chat, w.rt.signing[w.a.slug].all_roots)
    assert report.ok, report.to_dict()
    path = w.folder / "chat-signed.pdf"
    path.write_bytes(in_chat)
    (w.folder / "nss").mkdir()
    nss = nss_db(w.rt.pki.root_cert_path, w.folder / "nss")
    assert_pdfsig_trusted(pdfsig_by_field(path, nss), "Processor", "Customer")

    # The evidence: the Telegram update (user, chat, message, time) and the bound address.
    async with scoped(w.rt) as s:
        sig = await s.scalar(
            select(Signature).where(
                Signature.contract_id == contract_id, Signature.party == "customer"
            )
        )
        assert sig is not None and sig.method == "chat_acceptance"
        ev = sig.evidence
        assert ev["telegram_user_id"] == KAROLIEN and ev["chat_id"] == KAROLIEN
        assert ev["bound_email"] == who and ev["received_at"] and ev["telegram_message_id"]
        assert "Akkoord via Telegram" in ev["reason"]
        entry = await s.scalar(select(ArchiveEntry).where(ArchiveEntry.contract_id == contract_id))
        assert entry is not None and entry.validation_ok

    # Messages after completion: answered plainly, recorded, nothing applied.
    (closed,) = await w.say(KAROLIEN, "1: iets anders")
    assert "afgerond" in closed.text
    async with scoped(w.rt) as s:
        last = await s.scalar(
            select(Message)
            .where(Message.contract_id == contract_id, Message.channel == "telegram")
            .order_by(Message.id.desc())
            .limit(1)
        )
        assert last is not None and last.outcome == "closed_contract"
    assert (await _version(w, contract_id)).fields["subject"] != "iets anders"


async def _version(w: World, contract_id: int) -> ContractVersion:
    async with scoped(w.rt) as s:
        c = await s.get(Contract, contract_id)
        assert c is not None
        v = await s.scalar(
            select(ContractVersion).where(
                ContractVersion.contract_id == contract_id,
                ContractVersion.number == c.current_version,
            )
        )
        assert v is not None
        return v


# --- hand-over -------------------------------------------------------------------------------


async def test_hand_over_mail_chat_mail_records_each_channel(world: World) -> None:
    w, who = world, "handover@mooi.example"
    contract_id, token = await _invite(w, who)
    invitation = w.mails(who, "invitation")[0]
    await _store_mail(w, customer_reply(invitation, "1: ok\n2: ok\n\nGroeten", who), 101)
    assert (await _contract(w, contract_id)).state == "collecting"

    # In the chat, what the mail answered is not asked again.
    _, first = await _bind(w, MALLORY, who, token)
    assert first.text.startswith("Vraag 3")
    (q4,) = await w.press(MALLORY, "ok:nature_purpose")
    assert q4.text.startswith("Vraag 4")

    # Back to mail: the rest, then AKKOORD to the final mail.
    await _store_mail(w, customer_reply(invitation, "4: ok\n5: ok\n\nGroeten", who), 102)
    await _wait_state(w, contract_id, "awaiting_signature")
    await w.jobs()
    (final,) = w.mails(who, "final")
    # The bound chat got the final version too, with the button.
    await w.api.wait_for("sendMessage", lambda c: c.chat_id == MALLORY and "SHA-256" in c.text)
    await _store_mail(w, customer_reply(final, "AKKOORD\n\nGroeten", who), 103)
    await _wait_state(w, contract_id, "completed")

    async with scoped(w.rt) as s:
        rows = (
            await s.scalars(
                select(Message)
                .where(Message.contract_id == contract_id, Message.direction == "in")
                .order_by(Message.id)
            )
        ).all()
        applied = [(m.channel, m.kind) for m in rows if m.outcome in ("applied", "followup_sent")]
        versions = (
            await s.scalars(
                select(ContractVersion)
                .where(ContractVersion.contract_id == contract_id)
                .order_by(ContractVersion.number)
            )
        ).all()
        sig = await s.scalar(
            select(Signature).where(
                Signature.contract_id == contract_id, Signature.party == "customer"
            )
        )
    assert applied == [
        ("email", "reply"),
        ("telegram", "button-ok"),
        ("email", "reply"),
        ("email", "reply"),
    ]
    reasons = [v.reason for v in versions]
    assert reasons[1].startswith("reply <") and reasons[2].startswith("telegram confirmation")
    assert reasons[3].startswith("reply <")
    assert sig is not None and sig.method == "reply_acceptance"
    # The signed copy reaches the chat as well.
    await w.api.wait_for("sendDocument", lambda c: c.chat_id == MALLORY and _signed_copy(c))


# --- bad input and abuse ---------------------------------------------------------------------


async def _events(w: World, action: str, contract_id: int | None = None) -> list[AuditEvent]:
    """Audit events of that action (of one contract: the database lives for the session)."""
    stmt = select(AuditEvent).where(AuditEvent.action == action)
    if contract_id is not None:
        stmt = stmt.where(AuditEvent.subject == f"contract:{contract_id}")
    async with scoped(w.rt) as s:
        return list((await s.scalars(stmt)).all())


async def test_unknown_expired_and_other_tenants_links(world: World) -> None:
    w = world
    (unknown,) = await w.say(EVE, "/start NoSuchToken123")
    assert "kennen we niet" in unknown.text
    (garbage,) = await w.say(EVE, "/start ../../etc/passwd")
    assert "kennen we niet" in garbage.text
    assert len(await _events(w, "chat.customer_unknown_link")) >= 2

    # Another tenant's link on this bot: unknown here, nothing of that tenant shown.
    _, other = await _invite(w, "b-customer@elders.example", w.b)
    (foreign,) = await w.say(EVE, f"/start {other}")
    assert "kennen we niet" in foreign.text and w.b.name not in foreign.text

    contract_id, token = await _invite(w, "expired@mooi.example")
    async with scoped(w.rt) as s:
        await s.execute(update(Contract).where(Contract.id == contract_id).values(state="expired"))
    (expired,) = await w.say(EVE, f"/start {token}")
    assert "niet meer geldig" in expired.text
    await w.jobs()
    assert w.mails("expired@mooi.example", "chat_code") == []
    assert await _events(w, "chat.customer_expired_link")


async def test_second_person_and_wrong_codes(world: World) -> None:
    w, who = world, "second@mooi.example"
    contract_id, token = await _invite(w, who)

    # Eve opens the link first, then types wrong codes: locked after five, staff told.
    await w.say(EVE, f"/start {token}")
    await w.jobs()  # Eve's code mail out now, so the last code mail below is Karolien's
    for left in (4, 3, 2, 1):
        (wrong,) = await w.say(EVE, "000000" if left % 2 else "999999")
        assert f"nog {left} keer" in wrong.text
    (locked,) = await w.say(EVE, "123456")
    assert "geblokkeerd" in locked.text
    (still,) = await w.say(EVE, "111111")
    assert "geblokkeerd" in still.text
    (again,) = await w.say(EVE, f"/start {token}")
    assert "geblokkeerd" in again.text
    async with scoped(w.rt) as s:
        note = await s.scalar(select(Notification).where(Notification.kind == "chat_locked"))
        assert note is not None and str(EVE) in note.text
    await w.api.wait_for("sendMessage", lambda c: c.chat_id == GROUP and "locked" in c.text)

    # The invited representative binds; a second person with the same link is refused.
    _, first = await _bind(w, KAROLIEN, who, token)
    assert first.text.startswith("Vraag 1")
    (refused,) = await w.say(MALLORY, f"/start {token}")
    assert "al door iemand anders gebruikt" in refused.text
    await w.jobs()
    # Codes went to the invited address only: for Eve's attempt and Karolien's, none for Mallory.
    assert len(w.mails(who, "chat_code")) == 2
    assert await _events(w, "chat.customer_refused")
    # Mallory has no binding: a later message of theirs is a stranger's (the staff refusal).
    async with scoped(w.rt) as s:
        rows = (
            await s.scalars(select(ChatBinding).where(ChatBinding.contract_id == contract_id))
        ).all()
        assert {(r.telegram_user_id, r.status) for r in rows} >= {
            (EVE, "locked"),
            (KAROLIEN, "bound"),
        }
        assert all(r.code_hash is None for r in rows if r.status != "pending")


async def _burst(w: World, messages: list[tuple[int, str]]) -> dict[int, list[str]]:
    """Many users write at once (the bot takes the updates in order); one answer each, the
    texts per user."""
    users = {u for u, _ in messages}
    before = len(w.api.calls)
    for user, text in messages:
        w.api.push_message(TOKEN, user, user, text)

    def replies() -> list[Call]:
        return [
            c
            for c in w.api.calls[before:]
            if c.method == "sendMessage" and c.chat_id in users and c.status == 200
        ]

    deadline = time.monotonic() + 120
    while len(replies()) < len(messages):
        assert time.monotonic() < deadline, f"{len(replies())} of {len(messages)} answered"
        await asyncio.sleep(0.05)
    await w.api.settle(0.4)
    out: dict[int, list[str]] = {}
    for c in replies():
        assert c.chat_id is not None
        out.setdefault(c.chat_id, []).append(c.text)
    assert sum(len(t) for t in out.values()) == len(messages)
    return out


async def _code_mails_stored(w: World, contract_id: int) -> int:
    """The contract's code mails in the tenant's outbox (messages, whatever their outcome)."""
    async with scoped(w.rt) as s:
        n = await s.scalar(
            select(func.count(Message.id)).where(
                Message.contract_id == contract_id,
                Message.kind == "chat_code",
                Message.direction == "out",
            )
        )
    return int(n or 0)


async def _notes(w: World, kind: str, contract_id: int) -> list[Notification]:
    async with scoped(w.rt) as s:
        rows = await s.scalars(
            select(Notification).where(
                Notification.kind == kind, Notification.subject == f"contract:{contract_id}"
            )
        )
        return list(rows.all())


async def _bindings(w: World, contract_id: int) -> list[ChatBinding]:
    async with scoped(w.rt) as s:
        rows = await s.scalars(select(ChatBinding).where(ChatBinding.contract_id == contract_id))
        return list(rows.all())


async def test_wrong_codes_from_many_accounts_close_the_link_once(world: World) -> None:
    w, who = world, "many@mooi.example"
    contract_id, token = await _invite(w, who)

    # 25 accounts, each /start and five wrong codes: the per-account lock alone would let
    # every account guess five times and get a fresh code mailed.
    attackers = [6000 + n for n in range(25)]
    burst: list[tuple[int, str]] = []
    for user in attackers:
        burst.append((user, f"/start {token}"))
        burst += [(user, "000000" if n % 2 else "999999") for n in range(MAX_TRIES)]
    got = await _burst(w, burst)

    accounts_with_code = CONTRACT_MAX_TRIES // MAX_TRIES
    for user in attackers[:accounts_with_code]:
        assert "stuurden we een code" in got[user][0]
    assert "geblokkeerd" in got[attackers[0]][-1]  # the first: its own five, locked
    assert "chatlink is afgesloten" in got[attackers[accounts_with_code - 1]][-1]
    for user in attackers[accounts_with_code:]:
        # /start and every guess after the limit: the link is closed, nothing read.
        assert all("chatlink is afgesloten" in t for t in got[user]), got[user]

    # A 26th account gets no code either, and staff hear nothing new.
    (late,) = await w.say(6100, f"/start {token}")
    assert "chatlink is afgesloten" in late.text and "@" not in late.text
    await w.jobs()
    assert len(w.mails(who, "chat_code")) == accounts_with_code
    assert await _code_mails_stored(w, contract_id) == accounts_with_code

    rows = await _bindings(w, contract_id)
    assert not [r for r in rows if r.status != "locked"]  # no account bound, none pending
    assert sum(r.tries for r in rows) == CONTRACT_MAX_TRIES  # guesses after it never counted
    assert all(r.code_hash is None for r in rows)
    (note,) = await _notes(w, LINK_CLOSED, contract_id)
    assert f"{CONTRACT_MAX_TRIES} times" in note.text and "closed" in note.text
    assert len(await _notes(w, "chat_locked", contract_id)) == 1  # the first account's lock
    assert len(await _events(w, "chat.link_closed", contract_id)) == 1
    refused = await _events(w, "chat.customer_refused", contract_id)
    assert sum(e.detail.get("reason") == "link_closed" for e in refused) == 24
    # Staff chat: told once.
    await w.api.wait_for("sendMessage", lambda c: c.chat_id == GROUP and "now closed" in c.text)
    await w.api.settle(0.5)
    assert sum("now closed" in c.text for c in w.api.of("sendMessage", chat_id=GROUP)) == 1


async def test_start_again_mails_no_second_code_while_it_is_valid(world: World) -> None:
    w, who = world, "again@mooi.example"
    contract_id, token = await _invite(w, who)
    # Not the per-chat flood limit (20 a minute) keeps the inbox clean here: lifted.
    for app in w.chat.applications:
        app.bot_data[STATE_KEY].flood_max = 100

    got = await _burst(w, [(KAROLIEN, f"/start {token}")] * 20)
    first, *again = got[KAROLIEN]
    assert "stuurden we een code" in first
    assert len(again) == 19 and all("al een code" in t and "geldig" in t for t in again)
    await w.jobs()
    (code_mail,) = w.mails(who, "chat_code")
    assert await _code_mails_stored(w, contract_id) == 1
    assert not await _notes(w, CODE_LIMIT, contract_id)  # one account, one code: no limit hit

    # The one code mailed still binds.
    code = re.search(r"\b(\d{6})\b", _text(code_mail))
    assert code is not None
    bound, question = await w.say(KAROLIEN, code[1])
    assert "Salon again@mooi.example" in bound.text and question.text.startswith("Vraag 1")


async def test_code_mails_per_contract_per_hour(world: World) -> None:
    w, who = world, "hourly@mooi.example"
    contract_id, token = await _invite(w, who)

    users = [6200 + n for n in range(CODE_MAILS_PER_HOUR + 2)]
    got = await _burst(w, [(u, f"/start {token}") for u in users])
    for user in users[:CODE_MAILS_PER_HOUR]:
        assert "stuurden we een code" in got[user][0]
    for user in users[CODE_MAILS_PER_HOUR:]:
        (text,) = got[user]
        assert f"hoogstens {CODE_MAILS_PER_HOUR} per uur" in text and "minuten" in text
    await w.jobs()
    assert len(w.mails(who, "chat_code")) == CODE_MAILS_PER_HOUR
    (note,) = await _notes(w, CODE_LIMIT, contract_id)  # two refused, staff told once
    assert str(users[CODE_MAILS_PER_HOUR]) in note.text
    assert len(await _events(w, "chat.code_limit", contract_id)) == 2

    # An hour later (the mails' own time moved back), a code is mailed again, and it binds.
    async with scoped(w.rt) as s:
        await s.execute(
            update(Message)
            .where(Message.contract_id == contract_id, Message.kind == "chat_code")
            .values(created_at=func.now() - dt.timedelta(minutes=61))
        )
    user = users[CODE_MAILS_PER_HOUR]
    _, question = await _bind(w, user, who, token)
    assert question.text.startswith("Vraag 1")
    assert len(w.mails(who, "chat_code")) == CODE_MAILS_PER_HOUR + 1


async def test_accounts_racing_do_not_overrun_the_limits(world: World) -> None:
    """Accounts at the same moment, each in its own transaction on the real database (several
    bot processes would do the same): neither limit is passed, no deadlock, staff told once."""
    w, who = world, "race@mooi.example"
    contract_id, token = await _invite(w, who)
    tenants = {w.rt.tenant_ids[w.a.slug]: w.a.slug}
    serial = iter(range(50_000, 60_000))

    def incoming(user: int) -> Incoming:
        n = next(serial)
        return Incoming(tenants, user, user, n, n, "nl")

    users = [6300 + n for n in range(8)]
    answers = await asyncio.gather(*(chat.start(w.rt, incoming(u), token) for u in users))
    mailed = [u for u, a in zip(users, answers, strict=True) if "stuurden we" in a[0].text]
    assert len(mailed) == CODE_MAILS_PER_HOUR
    await w.jobs()
    assert len(w.mails(who, "chat_code")) == CODE_MAILS_PER_HOUR
    assert len(await _notes(w, CODE_LIMIT, contract_id)) == 1

    guesses = [(u, "000000" if k % 2 else "999999") for u in mailed for k in range(MAX_TRIES)]
    assert len(guesses) > CONTRACT_MAX_TRIES
    await asyncio.gather(*(chat.on_text(w.rt, incoming(u), text) for u, text in guesses))
    rows = await _bindings(w, contract_id)
    assert sum(r.tries for r in rows) == CONTRACT_MAX_TRIES
    assert {r.status for r in rows} == {"locked"}
    assert len(await _notes(w, LINK_CLOSED, contract_id)) == 1


async def test_expired_code_is_refused(world: World) -> None:
    w, who = world, "late@mooi.example"
    contract_id, token = await _invite(w, who)
    await w.say(KAROLIEN, f"/start {token}")
    await w.jobs()
    (code_mail,) = w.mails(who, "chat_code")
    code = re.search(r"\b(\d{6})\b", _text(code_mail))
    assert code is not None
    async with scoped(w.rt) as s:
        b = await s.scalar(select(ChatBinding).where(ChatBinding.contract_id == contract_id))
        assert b is not None and b.code_expires_at is not None
        b.code_expires_at = b.code_expires_at.replace(year=2000)
    (late,) = await w.say(KAROLIEN, code[1])
    assert "verlopen" in late.text


async def test_flood_documents_and_nothing_applied(world: World) -> None:
    w, who = world, "flood@mooi.example"
    contract_id, token = await _invite(w, who)
    await _bind(w, KAROLIEN, who, token)

    # Not a PDF, and too large: answered, recorded, nothing applied.
    (not_pdf,) = await w.upload(KAROLIEN, "answers.docx", b"PK\x03\x04 not a pdf")
    assert "PDF" in not_pdf.text
    (fake,) = await w.upload(KAROLIEN, "fake.pdf", b"MZ this is no pdf at all")
    assert "PDF" in fake.text
    limit = w.rt.tenants[w.a.slug].mail.max_attachment_bytes
    w.rt.tenants[w.a.slug].mail.max_attachment_bytes = 1024
    try:
        (big,) = await w.upload(KAROLIEN, "big.pdf", b"%PDF-1.7\n" + b"0" * 4096)
        assert "groter dan" in big.text
    finally:
        w.rt.tenants[w.a.slug].mail.max_attachment_bytes = limit
    refused = await _events(w, "chat.document_refused")
    assert {e.detail["reason"] for e in refused} >= {"not_pdf", "too_large"}

    # Flooding: beyond the limit one plain answer, recorded, later messages not read.
    state = w.chat.applications[0].bot_data[STATE_KEY]
    for app in w.chat.applications:
        app.bot_data[STATE_KEY].flood_max = 3
    before = len(w.api.calls)
    for n in range(8):
        w.api.push_message(TOKEN, KAROLIEN, KAROLIEN, f"spam {n}")
    await w.answers(before, KAROLIEN, quiet=1.0)
    texts = [c.text for c in w.api.calls[before:] if c.method == "sendMessage"]
    assert sum("te veel berichten" in t for t in texts) == 1, texts
    assert await _events(w, "chat.customer_flood")
    state.flood_max = 20
    assert (await _version(w, contract_id)).number == 1  # nothing applied
    async with scoped(w.rt) as s:
        ids = (
            await s.scalars(
                select(Message.id).where(
                    Message.contract_id == contract_id, Message.channel == "telegram"
                )
            )
        ).all()
    assert len(ids) <= 3  # only the messages within the limit were read at all


async def test_staff_still_use_the_same_bot(world: World) -> None:
    w = world
    (help_,) = await w.say(ADMIN, "/help")
    assert "/status" in help_.text
    (stranger,) = await w.say(EVE, "hallo")  # no link, no binding: the staff refusal
    assert "kennen we niet" not in stranger.text


async def test_change_request_in_chat_and_the_decision_back_in_chat(world: World) -> None:
    from bot.contracts import negotiation
    from storage.models import ChangeRequest
    from tests.integration.test_negotiation import CHANGE_5

    w, who = world, "change@mooi.example"
    contract_id, token = await _invite(w, who)
    await _bind(w, KAROLIEN, who, token)
    answers = await w.say(KAROLIEN, CHANGE_5)
    assert any("doorgegeven" in a.text for a in answers)
    assert (await _contract(w, contract_id)).state == "negotiating"
    async with scoped(w.rt) as s:
        cr = await s.scalar(select(ChangeRequest).where(ChangeRequest.contract_id == contract_id))
        assert cr is not None and cr.article == "5"
    await w.api.wait_for("sendMessage", lambda c: c.chat_id == GROUP and "Change request" in c.text)
    await negotiation.decide_change(
        w.rt, w.a.slug, cr.id, actor="telegram:1001", action="reject", text="Wettelijk verplicht."
    )
    await w.jobs()
    (decision,) = await w.api.wait_for(
        "sendMessage", lambda c: c.chat_id == KAROLIEN and "Beslissing" in c.text
    )
    assert "artikel 5: geweigerd: Wettelijk verplicht." in decision.text
    assert w.mails(who, "change_decision")


# --- documents: the filled form and the customer's own signature -----------------------------


def _own_signer(w: World, name: str, email_: str, *, ca: bool = True) -> NssSigner:
    """The customer's own signing tool (pdfsig + NSS), its certificate from the tenant's
    customer CA (recognised) or self-signed (``ca=False``: refused)."""
    customer_ca = w.rt.signing[w.a.slug].customer_ca if ca else None
    key, cert = issue_rsa_cert(name, email_, customer_ca)
    chain = [customer_ca.ca_cert] if customer_ca else []
    return make_nss_signer(w.folder / f"nss-{email_}", key, cert, chain)


FORM_ANSWERS = {"duration": "5 jaar", "nature_purpose": "Registratie van klantgegevens."}


async def _form_to_final(w: World, user: int, who: str) -> tuple[int, bytes]:
    """Bind, upload the invitation's draft PDF with its form filled in: the answers apply as
    a mailed form's do and the final version comes in the chat. (contract id, final PDF)"""
    contract_id, token = await _invite(w, who)
    await _bind(w, user, who, token)
    invitation = w.mails(who, "invitation")[0]
    filled = fill_like_a_reader(_pdf(invitation), FORM_ANSWERS)
    (coming,) = await w.upload(user, "verwerkersovereenkomst-ingevuld.pdf", filled)
    assert "definitieve versie" in coming.text

    # Exactly what the same form attached to a mail gives.
    reply = email.message_from_bytes(
        customer_reply(invitation, "Zie bijlage.", who), policy=email.policy.default
    )
    assert isinstance(reply, EmailMessage)
    reply.add_attachment(filled, maintype="application", subtype="pdf", filename="form.pdf")
    by_mail = read_reply(bytes(reply), "ibeauty", {})
    version = await _version(w, contract_id)
    assert version.number == 2 and by_mail.fields
    assert {k: version.fields[k] for k in by_mail.fields} == by_mail.fields
    assert version.fields["duration"] == "5 jaar"
    async with scoped(w.rt) as s:
        row = await s.scalar(
            select(Message).where(Message.contract_id == contract_id, Message.kind == "document")
        )
        assert row is not None and row.channel == "telegram" and row.outcome == "applied"
    assert version.reason == f"telegram form (message {row.id})"

    await _wait_state(w, contract_id, "awaiting_signature")
    await w.jobs()
    (final_msg,) = await w.api.wait_for(
        "sendMessage", lambda c: c.chat_id == user and "SHA-256" in c.text
    )
    docs = await w.api.wait_for("sendDocument", lambda c: c.chat_id == user)
    final_pdf = docs[-1].files["document"][1]
    sent = await _version(w, contract_id)
    assert sent.sent_pdf_sha256 in final_msg.text
    assert hashlib.sha256(final_pdf).hexdigest() == sent.sent_pdf_sha256
    return contract_id, final_pdf


async def test_filled_form_then_own_signature_in_the_chat(world: World) -> None:
    w, who = world, "formulier@mooi.example"
    contract_id, final_pdf = await _form_to_final(w, KAROLIEN, who)

    # The customer signs the final PDF with their own certificate and sends it back.
    signer = _own_signer(w, "Karolien Piskor", who)
    (w.folder / "own").mkdir()
    signed = signer.sign(final_pdf, w.folder / "own", field=FIELD_CUSTOMER)
    (checking,) = await w.upload(KAROLIEN, "verwerkersovereenkomst-ondertekend.pdf", signed)
    assert "controleren de handtekening" in checking.text
    await _wait_state(w, contract_id, "completed")

    # Archived; the signed copy back in the chat (and by mail); both signatures valid.
    signed_docs = await w.api.wait_for(
        "sendDocument", lambda c: c.chat_id == KAROLIEN and _signed_copy(c)
    )
    in_chat = signed_docs[-1].files["document"][1]
    assert in_chat.startswith(signed)  # the customer's own signature, untouched
    await w.jobs()
    (completed,) = w.mails(who, "completed")
    assert _pdf(completed) == in_chat
    # Not strict: poppler (the customer's tool here) reuses the empty appearance's object.
    assert [
        s.field_name for s in PdfFileReader(BytesIO(in_chat), strict=False).embedded_signatures
    ] == [
        "Processor",
        "Customer",
        "ArchiveTimestamp",
    ]
    report = await validate_pdf(in_chat, w.rt.signing[w.a.slug].all_roots)
    assert report.ok, report.to_dict()
    path = w.folder / "own-signed.pdf"
    path.write_bytes(in_chat)
    (w.folder / "nss").mkdir()
    nss = nss_db(w.rt.pki.root_cert_path, w.folder / "nss")
    assert_pdfsig_trusted(pdfsig_by_field(path, nss), "Processor", "Customer")
    async with scoped(w.rt) as s:
        entry = await s.scalar(select(ArchiveEntry).where(ArchiveEntry.contract_id == contract_id))
        assert entry is not None and entry.validation_ok
        sig = await s.scalar(
            select(Signature).where(
                Signature.contract_id == contract_id, Signature.party == "customer"
            )
        )
        assert sig is not None and sig.method == "own_certificate"
        assert sig.signer == "Karolien Piskor"
        row = await s.scalar(
            select(Message)
            .where(Message.contract_id == contract_id, Message.kind == "document")
            .order_by(Message.id.desc())
            .limit(1)
        )
        assert row is not None and row.channel == "telegram"
        assert row.outcome == "signature_accepted"
        assert sig.evidence["raw_sha256"] == row.raw_sha256


async def test_refused_own_signature_is_told_in_the_chat(world: World) -> None:
    w, who = world, "zelf@mooi.example"
    contract_id, final_pdf = await _form_to_final(w, KAROLIEN, who)

    signer = _own_signer(w, "Karolien Piskor", who, ca=False)  # self-signed
    (w.folder / "self").mkdir()
    signed = signer.sign(final_pdf, w.folder / "self", field=FIELD_CUSTOMER)
    before = len(w.api.calls)
    (checking,) = await w.upload(KAROLIEN, "ondertekend.pdf", signed)
    assert "controleren de handtekening" in checking.text
    await w.jobs()

    # The reason, in the customer's language, in the chat (and by mail); staff told why.
    reason = REASONS["untrusted_certificate"]["nl"]
    (told,) = await w.api.wait_for(
        "sendMessage", lambda c: c.chat_id == KAROLIEN and reason in c.text
    )
    assert w.api.calls.index(told) > before
    async with scoped(w.rt) as s:
        row = await s.scalar(
            select(Message)
            .where(Message.contract_id == contract_id, Message.kind == "document")
            .order_by(Message.id.desc())
            .limit(1)
        )
        assert row is not None and row.channel == "telegram"
        assert row.outcome == "signature_refused"
        note = await s.scalar(
            select(Notification).where(Notification.subject == f"message:{row.id}")
        )
        assert note is not None and note.kind == "signature_refused"
        assert "trust root" in note.text.lower()
        assert (
            await s.scalar(
                select(Signature).where(
                    Signature.contract_id == contract_id, Signature.party == "customer"
                )
            )
        ) is None
    await w.api.wait_for("sendMessage", lambda c: c.chat_id == GROUP and "not accepted" in c.text)
    followups = w.mails(who, "followup")
    assert any(reason.split(" (")[0] in " ".join(_text(m).split()) for m in followups)
    assert (await _contract(w, contract_id)).state == "awaiting_signature"

    # Nothing applied: the acceptance button under the final version still signs.
    version = await _version(w, contract_id)
    assert version.sent_pdf_sha256 is not None
    (thanks,) = await w.press(KAROLIEN, f"accept:{version.number}:{version.sent_pdf_sha256[:16]}")
    assert "ondertekenen nu" in thanks.text
    await _wait_state(w, contract_id, "completed")
