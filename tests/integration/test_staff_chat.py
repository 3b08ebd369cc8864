"""The Telegram staff bot, polling a local stand-in of the Bot API as it polls Telegram.

Tests push updates (a staff member's /command, a button press, an upload) and assert on what
the bot called. A recording error handler fails every test in which a handler raised.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import time
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.app.telegram import StaffChat
from bot.chat.notify import deliver_once
from bot.contracts import new_token
from bot.core.runtime import Runtime
from bot.core.settings import (
    SecretRef,
    StaffMember,
    TelegramServiceSettings,
    TelegramSettings,
    TenantSettings,
)
from bot.jobs import run_jobs_until_idle
from handlers.staff import ADMIN, REGISTRY, Registry, StaffContext
from storage.models import AuditEvent, Contract, Message, Notification, Staff
from storage.notify import notify_staff
from storage.repositories import TenantRepo
from tests.fixtures.botapi import REPLIES, BotApi, Call
from tests.fixtures.runtime import make_tenant, scoped

TOKEN = "111111:AAAA-staff-bot"  # tenants A and B share this bot
TOKEN_C = "222222:CCCC-other-bot"  # tenant C has a bot of its own
ADMIN_A, STAFF_A, ADMIN_B, BOTH, STRANGER, ADMIN_C = 1001, 1002, 2001, 3001, 9999, 4001
GROUP_A, GROUP_B, GROUP_C = -100111, -100222, -100333
BUILTIN = {"help", "status", "find", "get", "remind", "audit", "export"}


def _telegram(env: str, chat: int, staff: list[StaffMember], **kw: Any) -> TelegramSettings:
    # The staff chat in English (the tenants' language is Dutch): these tests read its words.
    kw.setdefault("language", "en")
    return TelegramSettings(token=SecretRef(env=env), staff_chat_id=chat, staff=staff, **kw)


@dataclass
class World:
    rt: Runtime
    api: BotApi
    chat: StaffChat
    a: TenantSettings
    b: TenantSettings
    c: TenantSettings
    errors: list[BaseException] = field(default_factory=list)

    async def say(
        self, user: int, text: str, chat: int | None = None, token: str = TOKEN
    ) -> list[Call]:
        """A user writes in a chat (default: their private chat); the bot's answers there."""
        chat = user if chat is None else chat
        before = len(self.api.calls)
        self.api.push_message(token, user, chat, text)
        return await self.answers(before, chat)

    async def press(self, user: int, chat: int, data: str, message_id: int) -> list[Call]:
        before = len(self.api.calls)
        self.api.push_callback(TOKEN, user, chat, data, message_id)
        return await self.answers(before, chat)

    async def answers(self, before: int, chat: int, quiet: float = 0.4) -> list[Call]:
        return await self.api.answers(before, chat, quiet=quiet, timeout=15)

    async def silence(self, before: int, chat: int, wait: float = 1.0) -> None:
        await asyncio.sleep(wait)
        got = [c for c in self.api.calls[before:] if c.method in REPLIES and c.chat_id == chat]
        assert got == [], got

    def tid(self, t: TenantSettings) -> int:
        return self.rt.tenant_ids[t.slug]


async def start_chat(world: World, registry: Registry = REGISTRY) -> StaffChat:
    chat = StaffChat(world.rt, registry=registry, poll_timeout=1, notify_interval=0.2)
    await chat.start()

    async def record(update: object, context: Any) -> None:
        world.errors.append(context.error)

    for app in chat.applications:
        app.add_error_handler(record)
    world.chat = chat
    return chat


@pytest.fixture
async def world(runtime_factory, botapi, monkeypatch) -> AsyncIterator[World]:
    monkeypatch.setenv("DPABOT_TEST_TG", TOKEN)
    monkeypatch.setenv("DPABOT_TEST_TG_C", TOKEN_C)
    a, b, c = make_tenant(), make_tenant(), make_tenant()
    a.telegram = _telegram(
        "DPABOT_TEST_TG",
        GROUP_A,
        [
            StaffMember(user_id=ADMIN_A, name="Anna Admin", role="admin"),
            StaffMember(user_id=STAFF_A, name="Stef Staff", role="staff"),
            StaffMember(user_id=BOTH, name="Bo Both", role="staff"),
        ],
    )
    b.telegram = _telegram(
        "DPABOT_TEST_TG",
        GROUP_B,
        [
            StaffMember(user_id=ADMIN_B, name="Bert Admin", role="admin"),
            StaffMember(user_id=BOTH, name="Bo Both", role="staff"),
        ],
    )
    c.telegram = _telegram(
        "DPABOT_TEST_TG_C",
        GROUP_C,
        [StaffMember(user_id=ADMIN_C, name="Cas Admin", role="admin")],
        digest=True,
    )
    rt = await runtime_factory([a, b, c])
    rt.settings.telegram = TelegramServiceSettings(base_url=botapi.base_url)
    w = World(rt, botapi, None, a, b, c)  # type: ignore[arg-type]
    await start_chat(w)
    try:
        yield w
    finally:
        await w.chat.stop()
    assert w.errors == [], f"a chat handler raised: {w.errors!r}"


async def test_help_lists_what_the_role_may_do(world):
    (admin,) = await world.say(ADMIN_A, "/help")
    (staff,) = await world.say(STAFF_A, "/help")
    for cmd in ("/status", "/find", "/get", "/remind", "/help"):
        assert cmd in admin.text and cmd in staff.text
    assert "/audit" in admin.text and "/export" in admin.text
    assert "/audit" not in staff.text and "/export" not in staff.text
    assert world.a.name in admin.text and "Anna Admin (admin)" in admin.text


# --- helpers ---------------------------------------------------------------------------------


async def add_contract(
    w: World,
    t: TenantSettings,
    name: str,
    email: str,
    state: str = "invited",
    days: float = 0,
    enterprise: str | None = "BE0840.465.705",
) -> int:
    """A customer with one contract in ``state``, ``days`` old (rows only: fast)."""
    async with scoped(w.rt) as s:
        repo = TenantRepo(s, w.tid(t))
        customer = await repo.add_customer(
            name=name,
            email=email,
            representative="Karolien Piskor",
            enterprise_number=enterprise,
            language="nl",
        )
        contract = await repo.add_contract(
            customer_id=customer.id,
            template_id=t.template,
            state=state,
            reply_token=new_token(),
            current_version=1,
        )
        await repo.add_version(
            contract,
            number=1,
            fields={
                "customer_name": name,
                "customer_enterprise_number": enterprise or "",
                "customer_representative": "Karolien Piskor",
                "customer_email": email,
            },
            changed_by="test",
            reason="test",
        )
        if days:
            await s.execute(
                update(Contract)
                .where(Contract.id == contract.id)
                .values(created_at=Contract.created_at - dt.timedelta(days=days))
            )
        return contract.id


async def events(w: World, t: TenantSettings, action: str, least: int = 1) -> list[AuditEvent]:
    """The tenant's audit events of one action, waiting a little for ``least`` of them (the
    dispatcher writes a command's event right after its answer)."""
    deadline = time.monotonic() + 5
    while True:
        async with scoped(w.rt) as s:
            rows = list(
                (
                    await s.scalars(
                        select(AuditEvent)
                        .where(AuditEvent.tenant_id == w.tid(t), AuditEvent.action == action)
                        .order_by(AuditEvent.id)
                    )
                ).all()
            )
        if len(rows) >= least or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.05)


async def notes(w: World, t: TenantSettings) -> list[Notification]:
    async with scoped(w.rt) as s:
        return list(
            (
                await s.scalars(
                    select(Notification)
                    .where(Notification.tenant_id == w.tid(t))
                    .order_by(Notification.id)
                )
            ).all()
        )


async def archived(w: World, t: TenantSettings, name: str, email: str) -> Any:
    """A contract taken through the whole chain by mail: its archive entry."""
    from tests.integration.test_archive_verify import archive_one

    return await archive_one(w.rt, t.slug, name, email)


# --- commands --------------------------------------------------------------------------------


async def test_staff_asking_for_an_admin_command_get_a_plain_refusal(world):
    for cmd in ("/audit", "/export"):
        (answer,) = await world.say(STAFF_A, cmd)
        assert "administrators only" in answer.text
        assert "intact" not in answer.text
    assert not world.api.of("sendDocument")
    refused = await events(world, world.a, "chat.refused_role", 2)
    assert [e.detail["command"] for e in refused] == ["audit", "export"]
    assert {e.actor for e in refused} == {f"telegram:{STAFF_A}"}


async def test_status_counts_per_state_and_the_oldest_waiting(world):
    await add_contract(world, world.a, "Alpha BV", "a1@alpha.example", "invited", days=1)
    old = await add_contract(world, world.a, "Oldie NV", "o@oldie.example", "collecting", days=9)
    await add_contract(world, world.a, "Done BV", "d@done.example", "completed", days=20)
    await add_contract(world, world.a, "Gamma BV", "g@gamma.example", "invited")
    (answer,) = await world.say(STAFF_A, "/status")
    text = answer.text
    assert "invited: 2" in text and "collecting: 1" in text and "completed: 1" in text
    assert "total: 4" in text
    assert f"Oldest waiting: #{old} Oldie NV (collecting), 9 d" in text
    (event,) = await events(world, world.a, "chat.status")
    assert event.detail["counts"] == {"invited": 2, "collecting": 1, "completed": 1}


async def test_find_by_name_number_email_id_and_state(world):
    mooi = await add_contract(world, world.a, "MOOI Schoonheid", "karolien@mooi.example")
    other = await add_contract(
        world, world.a, "Utopia", "tineke@utopia.example", "collecting", enterprise="BE0123.456.749"
    )
    cases = {
        "/find mooi": [mooi],
        "/find 0840 465 705": [mooi],
        "/find BE0840.465.705": [mooi],
        "/find tineke@utopia": [other],
        f"/find #{other}": [other],
        "/find collecting": [other],
        "/find example": [other, mooi],
    }
    for query, ids in cases.items():
        (answer,) = await world.say(STAFF_A, query)
        found = [int(w[1:]) for w in answer.text.split() if w.startswith("#") and w[1:].isdigit()]
        assert found == ids, (query, answer.text)
    (answer,) = await world.say(STAFF_A, "/find nobody-like-this")
    assert 'Nothing found for "nobody-like-this"' in answer.text
    searched = await events(world, world.a, "chat.find", len(cases) + 1)
    assert searched[0].detail["query"] == "mooi" and searched[0].detail["results"] == 1


async def test_long_answers_are_paged_with_buttons(world):
    async with scoped(world.rt) as s:
        repo = TenantRepo(s, world.tid(world.a))
        for n in range(45):
            await repo.add_customer(
                name=f"Paging Customer {n:02d} with a rather long company name BV",
                email=f"someone{n}@paging-customers-of-dpabot.example",
                representative="X",
            )
    (first,) = await world.say(STAFF_A, "/find paging")
    assert len(first.text) <= 4096 and "(page 1 of 2)" in first.text
    ((label, data),) = first.buttons
    assert label.startswith("next")
    message_id = first.result["message_id"]
    (second,) = await world.press(STAFF_A, STAFF_A, data, message_id)
    assert second.method == "editMessageText" and "(page 2 of 2)" in second.text
    assert second.params["message_id"] == message_id
    assert [b[0] for b in second.buttons] == ["◀ previous"]
    shown = first.text + second.text
    assert all(f"Customer {n:02d}" in shown for n in range(45))
    # Another tenant's staff cannot turn these pages, even knowing the key.
    (other,) = await world.press(ADMIN_B, ADMIN_B, data, message_id)
    assert "expired" in other.text and "Paging" not in other.text


async def test_get_sends_the_archived_pdf_its_certificate_and_its_validation(world):
    entry = await archived(world, world.a, "MOOI Schoonheidsverzorging", "k@mooi.example")
    pdf = await world.rt.archive.async_get(entry.path)
    doc, cert, summary = await world.say(STAFF_A, f"/get {entry.contract_id}")
    assert doc.method == "sendDocument"
    ((filename, data),) = doc.files.values()
    assert data == pdf and filename == f"verwerkersovereenkomst-{entry.contract_id}-ondertekend.pdf"
    # The certificate of completion archived with it, as a document of its own.
    assert cert.method == "sendDocument" and entry.certificate_path
    ((filename, data),) = cert.files.values()
    assert data == await world.rt.archive.async_get(entry.certificate_path)
    assert filename == f"verwerkersovereenkomst-{entry.contract_id}-certificaat.pdf"
    assert entry.id in summary.text and "Validation when archived: passed" in summary.text
    assert "Processor" in summary.text and "Customer" in summary.text
    assert "archive timestamp" in summary.text
    # By archive id too.
    doc2, _, _ = await world.say(STAFF_A, f"/get {entry.id}")
    assert next(iter(doc2.files.values()))[1] == pdf
    got = await events(world, world.a, "archive.get", 2)
    assert got[0].subject == f"contract:{entry.contract_id}"
    assert got[0].detail["archive_id"] == entry.id and got[0].actor == f"telegram:{STAFF_A}"
    # A completed contract tells staff.
    (note,) = [n for n in await notes(world, world.a) if n.kind == "completed"]
    assert note.subject == f"contract:{entry.contract_id}" and entry.id in note.text


async def test_get_of_a_contract_not_archived_yet(world):
    cid = await add_contract(world, world.a, "Waiting BV", "w@waiting.example")
    (answer,) = await world.say(STAFF_A, f"/get {cid}")
    assert f"Contract #{cid} is not archived yet (state: invited)" in answer.text
    (answer,) = await world.say(STAFF_A, "/get 99999999")
    assert answer.text == "There is no contract 99999999."
    (answer,) = await world.say(STAFF_A, "/get")
    assert answer.text.startswith("Usage: /get ID")
    assert not world.api.of("sendDocument")


async def test_remind_one_and_all(world):
    one = await add_contract(world, world.a, "Remind Me BV", "r1@remind.example")
    two = await add_contract(world, world.a, "Remind Too BV", "r2@remind.example", "collecting")
    done = await add_contract(world, world.a, "Done BV", "d@done.example", "completed")
    (answer,) = await world.say(STAFF_A, f"/remind {one}")
    assert f"#{one} Remind Me BV (invited)" in answer.text and "Reminder queued" in answer.text
    (answer,) = await world.say(STAFF_A, f"/remind {done}")
    assert "no reminder" in answer.text
    (answer,) = await world.say(STAFF_A, "/remind all")
    assert f"#{one}" in answer.text and f"#{two}" in answer.text and f"#{done}" not in answer.text
    await run_jobs_until_idle(world.rt)
    async with scoped(world.rt) as s:
        sent = (
            await s.execute(
                select(Message.contract_id, Message.outcome).where(
                    Message.tenant_id == world.tid(world.a), Message.kind == "reminder"
                )
            )
        ).all()
    assert sorted(c for c, _ in sent) == sorted([one, one, two])
    assert {o for _, o in sent} == {"sent"}
    reminded = await events(world, world.a, "chat.remind", 3)
    assert reminded[0].detail["sent"] == [f"#{one}"] and reminded[1].detail["skipped"] == [
        f"#{done}"
    ]


async def test_audit_and_export_for_admins(world):
    await world.say(ADMIN_A, "/help")
    await world.say(STAFF_A, "/status")
    await events(world, world.a, "chat.status")
    (answer,) = await world.say(ADMIN_A, "/audit 2")
    assert "intact (3 events)" in answer.text
    lines = [ln for ln in answer.text.splitlines()[1:] if ln.strip()]
    assert [ln.split()[3:] for ln in lines] == [
        [f"telegram:{ADMIN_A}", "chat.help"],
        [f"telegram:{STAFF_A}", "chat.status"],
    ]
    entry = await archived(world, world.a, "Export BV", "e@export.example")
    (doc,) = await world.say(ADMIN_A, "/export")
    ((filename, data),) = doc.files.values()
    assert filename.startswith(f"{world.a.slug}-archive-") and filename.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        sums = zf.read("SHA256SUMS").decode()
    assert any(n.endswith(f"{entry.pdf_sha256}.pdf") for n in names)
    assert entry.pdf_sha256 in sums
    (exported,) = await events(world, world.a, "archive.export")
    assert exported.actor == f"telegram:{ADMIN_A}" and exported.detail["files"] == len(names) - 1
    (audited,) = await events(world, world.a, "chat.audit")
    assert audited.detail["chain_ok"] is True


# --- who may talk to the bot -----------------------------------------------------------------


async def test_an_unknown_user_is_refused_once_and_audited(world):
    before = len(world.api.calls)
    for text in ("/status", "/find mooi", "hello?"):
        world.api.push_message(TOKEN_C, STRANGER, STRANGER, text)
    (refusal,) = await world.answers(before, STRANGER)
    assert refusal.text.startswith("Sorry, this bot only answers the staff")
    await world.silence(len(world.api.calls), STRANGER, 0.5)
    # Tenant C has the bot to itself: its log says who knocked.
    (event,) = await events(world, world.c, "chat.refused")
    assert event.subject == f"telegram:{STRANGER}" and event.detail["reason"] == "unknown"
    # A restart forgets nothing: the audit log remembers the refusal.
    await world.chat.stop()
    await start_chat(world)
    before = len(world.api.calls)
    world.api.push_message(TOKEN_C, STRANGER, STRANGER, "/help")
    await world.silence(before, STRANGER, 1.5)
    assert len(await events(world, world.c, "chat.refused")) == 1


async def test_a_stranger_in_a_tenants_group_is_refused_once(world):
    before = len(world.api.calls)
    world.api.push_message(TOKEN, STRANGER, GROUP_A, "/status")
    world.api.push_message(TOKEN, STRANGER, GROUP_A, "/get 1")
    (refusal,) = await world.answers(before, GROUP_A)
    assert "Sorry" in refusal.text and "contract" not in refusal.text.lower()
    (event,) = await events(world, world.a, "chat.refused")
    assert event.detail["chat_id"] == GROUP_A
    assert await events(world, world.b, "chat.refused", 0) == []
    # The group's own staff are answered there.
    (answer,) = await world.say(STAFF_A, "/status", chat=GROUP_A)
    assert "Contracts of" in answer.text


async def test_a_shared_bot_routes_by_chat_and_refuses_what_is_ambiguous(world):
    # Private chats: by the allowlist the user is on.
    (a,) = await world.say(STAFF_A, "/status")
    (b,) = await world.say(ADMIN_B, "/status")
    assert world.a.name in a.text and world.b.name in b.text
    # On both lists: refused in private (each time: they are staff, told where to ask) ...
    (ambiguous,) = await world.say(BOTH, "/status")
    assert "more than one organisation" in ambiguous.text
    assert world.a.name not in ambiguous.text and world.b.name not in ambiguous.text
    (again,) = await world.say(BOTH, "/help")
    assert "more than one organisation" in again.text
    # ... and answered in each tenant's group for that tenant.
    (in_a,) = await world.say(BOTH, "/status", chat=GROUP_A)
    (in_b,) = await world.say(BOTH, "/status", chat=GROUP_B)
    assert world.a.name in in_a.text and world.b.name in in_b.text
    # A's staff in B's group: not B's staff.
    (refused,) = await world.say(STAFF_A, "/status", chat=GROUP_B)
    assert "Sorry" in refused.text and world.b.name not in refused.text
    (event,) = await events(world, world.b, "chat.refused")
    assert event.subject == f"telegram:{STAFF_A}"
    for t in (world.a, world.b):  # the person on both lists: each tenant's log has it
        asked = await events(world, t, "chat.ambiguous", 2)
        assert [e.subject for e in asked] == [f"telegram:{BOTH}"] * 2


async def test_tenant_isolation_over_every_command(world):
    """A's staff name B's contracts, customers and archive: every answer is not-found-like
    and carries nothing of B; nothing of B changes."""
    secret_name, secret_mail = "Bravo Geheim BV", "ceo@bravo-geheim.example"
    waiting_b = await add_contract(world, world.b, secret_name, secret_mail, enterprise=None)
    entry_b = await archived(world, world.b, secret_name + " Archief", "arch@bravo-geheim.example")
    own = await add_contract(world, world.a, "Alpha BV", "a@alpha.example")
    secrets_b = [
        "Bravo",
        "Geheim",
        "bravo-geheim",
        world.b.slug,
        world.b.name,
        entry_b.id,
        entry_b.pdf_sha256,
    ]
    async with scoped(world.rt) as s:
        b_events_before = len(
            (
                await s.scalars(
                    select(AuditEvent.id).where(AuditEvent.tenant_id == world.tid(world.b))
                )
            ).all()
        )
    asks = [
        "/help",
        "/status",
        "/find Bravo",
        "/find bravo-geheim.example",
        f"/find #{waiting_b}",
        f"/find #{entry_b.contract_id}",
        f"/get {waiting_b}",
        f"/get {entry_b.contract_id}",
        f"/get {entry_b.id}",
        f"/remind {waiting_b}",
        "/remind all",
        "/audit 50",
        "/export",
    ]
    assert {a.split()[0][1:] for a in asks} >= BUILTIN
    texts = []
    for ask in asks:
        for answer in await world.say(ADMIN_A, ask):
            texts.append((ask, answer.text))
            for _, data in answer.files.values():
                if data[:2] == b"PK":
                    with zipfile.ZipFile(io.BytesIO(data)) as zf:
                        texts.append(
                            (ask, " ".join(zf.namelist()) + zf.read("SHA256SUMS").decode())
                        )
                else:
                    texts.append((ask, data.decode("latin-1")))
    for ask, text in texts:
        # What A's staff typed may be echoed (and is in A's own audit log): not B's.
        for word in sorted({w for a in asks for w in a.split()[1:]}, key=len, reverse=True):
            text = text.replace(word, "")
        for secret in secrets_b:
            assert secret.lower() not in text.lower(), (ask, secret, text)
    answered = dict(texts)
    assert answered[f"/get {waiting_b}"] == f"There is no contract {waiting_b}."
    assert answered[f"/get {entry_b.id}"] == f"There is no contract {entry_b.id}."
    assert answered[f"/remind {waiting_b}"] == f"There is no contract {waiting_b}."
    assert 'Nothing found for "Bravo"' in answered["/find Bravo"]
    assert f"#{own}" in answered["/remind all"] and f"#{waiting_b}" not in answered["/remind all"]
    # Nothing of B was touched: no reminder, no audit event in B's log.
    await run_jobs_until_idle(world.rt)
    async with scoped(world.rt) as s:
        reminders_b = (
            await s.scalars(
                select(Message.id).where(
                    Message.tenant_id == world.tid(world.b), Message.kind == "reminder"
                )
            )
        ).all()
        b_events_after = len(
            (
                await s.scalars(
                    select(AuditEvent.id).where(AuditEvent.tenant_id == world.tid(world.b))
                )
            ).all()
        )
    assert reminders_b == []
    assert b_events_after == b_events_before
    b_pdf = await world.rt.archive.async_get(entry_b.path)
    assert all(data != b_pdf for c in world.api.calls for _, data in c.files.values())


# --- transport -------------------------------------------------------------------------------


async def test_polling_waits_on_the_long_poll(world):
    """getUpdates with the configured timeout, the offset confirming what was handled."""
    await world.say(STAFF_A, "/help")
    before = len(world.api.of("getUpdates", token=TOKEN))
    await asyncio.sleep(2.5)
    polls = world.api.of("getUpdates", token=TOKEN)[before:]
    assert 1 <= len(polls) <= 4, len(polls)  # poll_timeout = 1 s: no spinning
    assert all(p.params["timeout"] == 1 for p in polls)
    assert polls[-1].params["offset"] > 1


async def test_telegram_429_is_retried_after_the_time_it_asks(world):
    world.api.fail_next("sendMessage", 2, retry_after=1)
    started = time.monotonic()
    (answer,) = await world.say(STAFF_A, "/help")
    assert "/status" in answer.text
    refused = [c for c in world.api.calls if c.method == "sendMessage" and c.status == 429]
    assert len(refused) == 2
    assert time.monotonic() - started >= 2.0  # waited retry_after (+0.1 s) twice


async def test_a_handler_error_is_reported_once_and_staff_are_told(world):
    registry = REGISTRY.copy()

    @registry.command("boom", roles=ADMIN, help="fails on purpose")
    async def boom(sc: StaffContext) -> None:
        raise RuntimeError("customer secret in an exception message")

    await world.chat.stop()
    await start_chat(world, registry)
    (answer,) = await world.say(ADMIN_A, "/boom")
    assert answer.text == "Something went wrong; staff have been told."
    assert [type(e) for e in world.errors] == [RuntimeError]
    world.errors.clear()
    (event,) = await events(world, world.a, "chat.boom")
    assert event.detail["outcome"] == "error"
    (note,) = [n for n in await notes(world, world.a) if n.kind == "chat_error"]
    assert "/boom" in note.text and "RuntimeError" in note.text and "secret" not in note.text


async def test_extensions_register_commands_buttons_and_uploads(world):
    """How other modules add to the staff chat: a command with buttons, the button's handler,
    and an upload handler that downloads the file."""
    registry = REGISTRY.copy()

    @registry.command("ask", roles=ADMIN, help="asks to confirm", usage="WHAT")
    async def ask(sc: StaffContext) -> None:
        await sc.reply(f"Confirm {sc.text}?", buttons=[[("Yes", f"ok:{sc.text}"), ("No", "ok:-")]])

    @registry.callback("ok", roles=ADMIN)
    async def confirm(sc: StaffContext) -> None:
        sc.subject = sc.data
        await sc.edit(f"Confirmed: {sc.data}")

    # (.csv and .xlsx belong to /send; a module of its own takes another kind of file.)
    @registry.upload("lines", suffixes=[".txt"], roles=ADMIN, help="a list of lines")
    async def lines(sc: StaffContext) -> None:
        data = await sc.download()
        await sc.reply(f"{len(data.splitlines())} lines, args {sc.args}")

    await world.chat.stop()
    await start_chat(world, registry)
    (helped,) = await world.say(ADMIN_A, "/help")
    assert "/ask WHAT - asks to confirm" in helped.text and "Send a file (.txt)" in helped.text
    (question,) = await world.say(ADMIN_A, "/ask the thing")
    assert question.buttons == [("Yes", "ok:the thing"), ("No", "ok:-")]
    (done,) = await world.press(ADMIN_A, ADMIN_A, "ok:the thing", 1234)
    assert done.method == "editMessageText" and done.text == "Confirmed: the thing"
    assert done.params["message_id"] == 1234
    assert world.api.of("answerCallbackQuery")
    (pressed,) = await events(world, world.a, "chat.ok")
    assert pressed.subject == "the thing"
    # Staff may not press an admin's button.
    before = len(world.api.calls)
    world.api.push_callback(TOKEN, STAFF_A, STAFF_A, "ok:the thing", 1234)
    (alert,) = await world.api.wait_for(
        "answerCallbackQuery", lambda c: world.api.calls.index(c) >= before
    )
    assert "administrators only" in alert.params["text"]
    # An upload, downloaded through getFile.
    before = len(world.api.calls)
    world.api.push_document(TOKEN, ADMIN_A, ADMIN_A, "regels.txt", b"a\nb\nc\n", caption="/x y")
    (answer,) = await world.answers(before, ADMIN_A)
    assert answer.text == "3 lines, args ['y']"
    assert world.api.of("getFile")


# --- notifications ---------------------------------------------------------------------------


async def test_notifications_reach_the_staff_chat_and_survive_a_failed_send(world):
    world.api.fail_next("sendMessage", 1, code=400)
    async with scoped(world.rt) as s:
        await notify_staff(s, world.tid(world.a), "question", "MOOI asks about art. 7.", "c:1")
        await notify_staff(s, world.tid(world.a), "bounce", "Mail to x bounced.", "c:2")
    sent = await world.api.wait_for(
        "sendMessage", lambda c: c.chat_id == GROUP_A, count=2, timeout=10
    )
    assert [c.text for c in sent] == [
        "[question] MOOI asks about art. 7.",
        "[bounce] Mail to x bounced.",
    ]
    assert next(c.status for c in world.api.calls if c.method == "sendMessage") == 400
    await world.api.settle()
    rows = [n for n in await notes(world, world.a) if n.kind in ("question", "bounce")]
    assert all(n.delivered_at is not None for n in rows)
    assert [n.attempts for n in rows] == [2, 1]
    # Tenant B's notes go to B's group only.
    async with scoped(world.rt) as s:
        await notify_staff(s, world.tid(world.b), "question", "B's own question.", "c:3")
    (b,) = await world.api.wait_for("sendMessage", lambda c: "B's own" in c.text)
    assert b.chat_id == GROUP_B
    assert not [c for c in world.api.of("sendMessage", chat_id=GROUP_A) if "B's own" in c.text]


async def test_completed_contracts_in_a_daily_digest(world):
    c = world.c  # digest = true, digest_hour = 8 (UTC)
    await world.chat.stop()  # deliver by hand, at chosen times
    world.chat = StaffChat(world.rt, poll_timeout=1, notify=False)
    await world.chat.start()
    async with scoped(world.rt) as s:
        for n in (1, 2):
            await notify_staff(s, world.tid(c), "completed", f"Contract {n} is signed.", f"c:{n}")
        await notify_staff(s, world.tid(c), "question", "A question.", "c:3")
    await world.api.settle()
    now = dt.datetime.now(dt.UTC)
    eight = now.replace(hour=8, minute=0, second=0, microsecond=0)
    eight += dt.timedelta(days=1) if eight <= now else dt.timedelta(0)
    assert await deliver_once(world.chat, now) == 1  # the question, at once
    # Until the next 08:00 the completed ones wait; then they come together.
    assert await deliver_once(world.chat, eight - dt.timedelta(minutes=1)) == 0
    assert await deliver_once(world.chat, eight) == 2
    assert await deliver_once(world.chat, eight + dt.timedelta(days=1)) == 0
    sent = world.api.of("sendMessage", chat_id=GROUP_C)
    assert [s.text.splitlines()[0] for s in sent] == [
        "[question] A question.",
        "Daily digest: 2 contract(s) completed",
    ]
    assert "Contract 1 is signed." in sent[1].text and "Contract 2 is signed." in sent[1].text
    assert all(n.delivered_at is not None for n in await notes(world, c))


async def test_a_flood_of_stranger_mail_reaches_the_staff_chat_as_two_messages(world):
    from tests.integration.test_notice_flood import ATTACKER, _flood

    await world.chat.stop()  # deliver by hand, at chosen times
    world.chat = StaffChat(world.rt, poll_timeout=1, notify=False)
    await world.chat.start()
    await world.api.settle()
    await _flood(world.rt, world.a, [ATTACKER] * 30)
    now = dt.datetime.now(dt.UTC)
    assert await deliver_once(world.chat, now) == 1
    # Told once: the rest of the hour waits for the hour's end, then comes as one message.
    await _flood(world.rt, world.a, [ATTACKER] * 10)
    assert await deliver_once(world.chat, now) == 0
    assert await deliver_once(world.chat, now + dt.timedelta(minutes=61)) == 1
    assert await deliver_once(world.chat, now + dt.timedelta(minutes=200)) == 0
    sent = [c.text for c in world.api.of("sendMessage", chat_id=GROUP_A)]
    assert len(sent) == 2
    assert sent[0].startswith(f"[unknown_token] From {ATTACKER}: 30 mails with unknown reply")
    assert sent[1].startswith(f"[unknown_token] From {ATTACKER}: 10 more mails with unknown")
    assert all(n.delivered_at is not None for n in await notes(world, world.a))


# --- start-up --------------------------------------------------------------------------------


async def test_the_allowlist_is_synced_to_the_staff_table(world):
    async def rows() -> list[tuple[int | None, str, str]]:
        async with scoped(world.rt) as s:
            return [
                (r.telegram_user_id, r.name, r.role)
                for r in (
                    await s.scalars(
                        select(Staff)
                        .where(Staff.tenant_id == world.tid(world.a))
                        .order_by(Staff.telegram_user_id)
                    )
                ).all()
            ]

    assert await rows() == [
        (ADMIN_A, "Anna Admin", "admin"),
        (STAFF_A, "Stef Staff", "staff"),
        (BOTH, "Bo Both", "staff"),
    ]
    assert world.a.telegram is not None
    world.a.telegram.staff = [
        StaffMember(user_id=ADMIN_A, name="Anna Admin", role="admin"),
        StaffMember(user_id=STAFF_A, name="Stef Staff", role="admin"),
    ]
    await world.chat.stop()
    await start_chat(world)
    assert await rows() == [(ADMIN_A, "Anna Admin", "admin"), (STAFF_A, "Stef Staff", "admin")]
    synced = await events(world, world.a, "staff.synced", 2)
    assert synced[-1].detail == {"added": [], "changed": [STAFF_A], "removed": [BOTH]}
    (helped,) = await world.say(STAFF_A, "/help")  # now an admin
    assert "/export" in helped.text


async def test_serve_runs_the_chat_and_stops_cleanly(world):
    from bot.app.serve import run

    await world.chat.stop()
    stop = asyncio.Event()
    world.rt.settings.telegram = TelegramServiceSettings(
        base_url=world.api.base_url, poll_timeout=1, notify_interval=0.2
    )
    task = asyncio.create_task(run(world.rt, stop, listeners=True, workers=1))
    try:
        calls = await world.api.wait_for("getUpdates", lambda c: c.token == TOKEN_C)
        assert calls
        (answer,) = await world.say(ADMIN_C, "/help", token=TOKEN_C)
        assert "/export" in answer.text
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
    world.chat = StaffChat(world.rt)  # already stopped: the fixture's stop() is a no-op
