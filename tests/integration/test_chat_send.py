"""/send from the staff chat: a preview (mail text and draft PDF) and a confirm button before
anything leaves, progress in one edited message, a summary naming failures; an uploaded file
with problems is answered row by row and nothing is imported; other tenants stay out of reach."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from bot import contracts
from bot.jobs import run_jobs_until_idle
from storage.models import Contract, Customer
from tests.fixtures.runtime import scoped
from tests.integration.test_own_signature import _mails
from tests.integration.test_staff_chat import (
    ADMIN_B,
    GROUP_A,
    GROUP_B,
    STAFF_A,
    TOKEN,
    events,
)

# The staff chat fixture (three tenants, the bot polling the stand-in), re-exported here.
from tests.integration.test_staff_chat import world as world

GOOD_CSV = (
    b"naam;e-mail;vertegenwoordiger;ondernemingsnummer;taal\n"
    b"Salon Een;een@salons.example;An Een;BE0840.465.705;nl\n"
    b"Institut Deux;deux@salons.example;Marie Deux;;fr\n"
    b"Beauty Three;three@salons.example;Tom Three;;en\n"
)
BAD_CSV = (
    b"naam;e-mail;vertegenwoordiger\n"
    b"Salon Een;een@bad.example;An Een\n"
    b"Salon Twee;not-an-address;Tina Twee\n"
    b"Salon Drie;een@bad.example;Dirk Drie\n"
)


async def _customers(world, tenant) -> int:
    async with scoped(world.rt) as s:
        return (
            await s.scalar(
                select(func.count())
                .select_from(Customer)
                .where(Customer.tenant_id == world.tid(tenant))
            )
        ) or 0


async def _upload(world, user: int, chat: int, name: str, data: bytes) -> list:
    before = len(world.api.calls)
    world.api.push_document(TOKEN, user, chat, name, data, caption="/send")
    return await world.answers(before, chat)


async def _summary(world, chat: int, before: int) -> str:
    deadline = time.monotonic() + 60
    while True:
        done = [
            c
            for c in world.api.calls[before:]
            if c.method == "sendMessage"
            and c.chat_id == chat
            and c.text.startswith(("Done:", "Imported"))
        ]
        if done:
            return done[-1].text
        assert time.monotonic() < deadline, "no summary of the send"
        await asyncio.sleep(0.1)


async def test_uploaded_file_previewed_confirmed_and_sent(world):
    answers = await _upload(world, STAFF_A, GROUP_A, "klanten.csv", GOOD_CSV)
    (pdf,) = [c for c in answers if c.method == "sendDocument"]
    ((filename, data),) = pdf.files.values()
    assert filename.endswith(".pdf") and data.startswith(b"%PDF")  # the draft, as mailed
    texts = [c.text for c in answers if c.method == "sendMessage"]
    assert any("3 customer(s) read" in t for t in texts)
    assert any("Preview of the mail to een@salons.example" in t and "Subject:" in t for t in texts)
    (ask,) = [c for c in answers if c.buttons]
    go = next(data for label, data in ask.buttons if label == "Send 3")
    assert await _customers(world, world.a) == 0  # nothing imported before confirming

    before = len(world.api.calls)
    await world.press(STAFF_A, GROUP_A, go, 1)
    summary = await _summary(world, GROUP_A, before)
    assert "Imported 3 new customer(s)" in summary and "3 invited" in summary
    edits = [c for c in world.api.calls[before:] if c.method == "editMessageText"]
    assert any(c.text == "Invited 3 of 3." for c in edits)  # the progress message, updated
    await run_jobs_until_idle(world.rt)
    for who in ("een@salons.example", "deux@salons.example", "three@salons.example"):
        assert len(_mails(world.rt, world.a.slug, who, "invitation")) == 1
    assert [e.detail["invited"] for e in await events(world, world.a, "invitations.sent")] == [3]

    # The same button again: the confirmation is used up.
    (again,) = await world.press(STAFF_A, GROUP_A, go, 1)
    assert "expired" in again.text


async def test_bad_file_answered_row_by_row_nothing_imported(world):
    answers = await _upload(world, STAFF_A, GROUP_A, "slecht.csv", BAD_CSV)
    text = "\n".join(c.text for c in answers)
    assert "nothing was imported" in text
    assert "row 3" in text and "row 4" in text  # the bad address and the duplicate
    assert not [c for c in answers if c.buttons or c.method == "sendDocument"]
    assert await _customers(world, world.a) == 0


async def test_send_ids_cancel_and_other_tenants(world):
    mine = await contracts.add_customer(
        world.rt, world.a.slug, name="Salon A", email="a1@salons.example", representative="A"
    )
    theirs = await contracts.add_customer(
        world.rt, world.b.slug, name="Salon B", email="b1@salons.example", representative="B"
    )
    answers = await world.say(STAFF_A, f"/send {mine} {theirs}", chat=GROUP_A)
    text = "\n".join(c.text for c in answers)
    assert "1 customer(s) would be invited" in text and "Not customers of" in text
    assert "Salon B" not in text and "b1@salons.example" not in text
    (ask,) = [c for c in answers if c.buttons]
    cancel = next(data for label, data in ask.buttons if label == "Cancel")
    go = next(data for label, data in ask.buttons if label.startswith("Send"))

    # Staff of tenant B cannot use tenant A's confirmation.
    (foreign,) = await world.press(ADMIN_B, GROUP_B, go, 1)
    assert "expired" in foreign.text
    (cancelled,) = await world.press(STAFF_A, GROUP_A, cancel, 1)
    assert "nothing was sent" in cancelled.text
    async with scoped(world.rt) as s:
        count = await s.scalar(
            select(func.count())
            .select_from(Contract)
            .where(Contract.tenant_id.in_([world.tid(world.a), world.tid(world.b)]))
        )
    assert count == 0

    (usage,) = await world.say(STAFF_A, "/send", chat=GROUP_A)
    assert usage.text.startswith("Usage: /send")
