"""The staff chat speaks Dutch, French or English: each person is answered in their language
(``StaffMember.language``, else the tenant's ``[telegram] language``, else the tenant's
``language``); a stranger is refused in the language of every tenant involved, else English.

Through the Bot API stand-in, as in test_staff_chat.py: the same commands from a Dutch, a
French and an English member of one Dutch tenant.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.contracts import stranger
from bot.core.settings import (
    SecretRef,
    StaffMember,
    TelegramServiceSettings,
    TelegramSettings,
)
from handlers.staff import ADMIN, REGISTRY, StaffContext
from storage.models import Notification
from storage.notify import notify_grouped, notify_staff
from storage.repositories import TenantRepo
from templates.chat import notice_text
from tests.fixtures.runtime import make_tenant, scoped
from tests.integration.test_chat_send import BAD_CSV, GOOD_CSV
from tests.integration.test_negotiation import CHANGE_5, _contract, _invite, _reply, _requests
from tests.integration.test_staff_chat import (
    TOKEN,
    TOKEN_C,
    World,
    add_contract,
    events,
    start_chat,
)

NL, FR, EN, NL_STAFF, STRANGER = 5001, 5002, 5003, 5004, 5999
B_ADMIN, C_ADMIN = 6001, 7001
GROUP_A, GROUP_B, GROUP_C = -100511, -100522, -100533


@pytest.fixture
async def world(runtime_factory, botapi, monkeypatch) -> AsyncIterator[World]:
    """A: a Dutch tenant (members in nl, fr, en); B: a French tenant on the same bot;
    C: a Dutch tenant with a bot of its own whose staff chat speaks French."""
    monkeypatch.setenv("DPABOT_TEST_TG", TOKEN)
    monkeypatch.setenv("DPABOT_TEST_TG_C", TOKEN_C)
    a, b, c = make_tenant(), make_tenant(), make_tenant()
    b.language = "fr"
    a.telegram = TelegramSettings(
        token=SecretRef(env="DPABOT_TEST_TG"),
        staff_chat_id=GROUP_A,
        staff=[
            StaffMember(user_id=NL, name="Nele", role="admin"),
            StaffMember(user_id=FR, name="France", role="admin", language="fr"),
            StaffMember(user_id=EN, name="Emma", role="admin", language="en"),
            StaffMember(user_id=NL_STAFF, name="Nico", role="staff"),
        ],
    )
    b.telegram = TelegramSettings(
        token=SecretRef(env="DPABOT_TEST_TG"),
        staff_chat_id=GROUP_B,
        staff=[StaffMember(user_id=B_ADMIN, name="Bernard", role="admin")],
    )
    c.telegram = TelegramSettings(
        token=SecretRef(env="DPABOT_TEST_TG_C"),
        staff_chat_id=GROUP_C,
        staff=[StaffMember(user_id=C_ADMIN, name="Cas", role="admin")],
        language="fr",
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


async def _one(world: World, user: int, text: str, chat: int | None = None) -> str:
    (answer,) = await world.say(user, text, chat=chat)
    return answer.text


async def test_help_in_the_language_of_who_asks(world):
    nl, fr, en = [await _one(world, u, "/help") for u in (NL, FR, EN)]
    assert "teamchat voor Nele (beheerder)" in nl and "/status - contracten per status" in nl
    assert "chat de l'équipe pour France (administrateur)" in fr
    assert "/status - les contrats par état" in fr
    assert "staff chat for Emma (admin)" in en and "/status - contracts per state" in en
    assert "Stuur een bestand (.csv, .xlsx)" in nl and "Envoyer un fichier" in fr


async def test_status_find_and_remind_with_states_and_durations_translated(world):
    old = await add_contract(world, world.a, "Oldie NV", "o@oldie.example", "collecting", days=9)
    done = await add_contract(world, world.a, "Done BV", "d@done.example", "completed", days=20)
    nl = await _one(world, NL, "/status")
    assert "gegevens gevraagd: 1" in nl and "afgerond: 1" in nl and "totaal: 2" in nl
    assert f"Wacht het langst: #{old} Oldie NV (gegevens gevraagd), 9 d " in nl
    assert " u oud" in nl
    fr = await _one(world, FR, "/status")
    assert "données demandées : 1" in fr and "terminé : 1" in fr
    assert f"#{old} Oldie NV (données demandées), depuis 9 j " in fr
    en = await _one(world, EN, "/status")
    assert "collecting: 1" in en and f"Oldest waiting: #{old} Oldie NV (collecting), 9 d" in en

    # /find takes a state as any staff member names it, accents optional.
    for user, query, expected in (
        (NL, "/find gegevens gevraagd", old),
        (FR, "/find données demandées", old),
        (FR, "/find donnees demandees", old),
        (EN, "/find collecting", old),
        (NL, "/find TERMINÉ", done),
        (FR, "/find afgerond", done),
    ):
        text = await _one(world, user, query)
        found = [int(w[1:]) for w in text.split() if w.startswith("#") and w[1:].isdigit()]
        assert found == [expected], (query, text)
    assert f"#{done} afgerond, v1" in await _one(world, NL, "/find afgerond")
    assert f"#{done} terminé, v1, depuis 20 j" in await _one(world, FR, "/find terminé")
    assert 'Niets gevonden voor "niemand"' in await _one(world, NL, "/find niemand")
    assert "Rien trouvé pour « personne »" in await _one(world, FR, "/find personne")

    reminded = await _one(world, FR, f"/remind {old}")
    assert f"Rappel programmé pour :\n  #{old} Oldie NV (données demandées)" in reminded


async def test_usage_refusals_and_unknown_input_in_the_members_language(world):
    assert (await _one(world, NL, "/get")).startswith("Gebruik: /get ID")
    assert (await _one(world, FR, "/get")).startswith("Utilisation : /get ID")
    assert (await _one(world, EN, "/get")).startswith("Usage: /get ID")
    assert "alleen voor beheerders" in await _one(world, NL_STAFF, "/audit")
    assert "Ik ken /nergens niet" in await _one(world, NL, "/nergens")
    assert "Je ne connais pas /nulle" in await _one(world, FR, "/nulle")
    assert "alleen op commando's" in await _one(world, NL, "hallo")
    assert "Er is geen contract 999999" in await _one(world, NL, "/get 999999")
    assert "Il n'y a pas de contrat 999999" in await _one(world, FR, "/get 999999")


async def test_pages_are_labelled_for_who_asked(world):
    async with scoped(world.rt) as s:
        repo = TenantRepo(s, world.tid(world.a))
        for n in range(45):
            await repo.add_customer(
                name=f"Paging Customer {n:02d} with a rather long company name BV",
                email=f"someone{n}@paging-customers-of-dpabot.example",
                representative="X",
            )
    for user, footer, next_label, previous_label in (
        (NL, "(pagina 1 van 2)", "volgende ▶", "◀ vorige"),
        (FR, "(page 1 sur 2)", "suivante ▶", "◀ précédente"),
    ):
        (first,) = await world.say(user, "/find paging")
        assert footer in first.text
        ((label, data),) = first.buttons
        assert label == next_label
        (second,) = await world.press(user, user, data, first.result["message_id"])
        assert [b[0] for b in second.buttons] == [previous_label]
    (expired,) = await world.press(NL, NL, "pg:nothere:1", 1)
    assert expired.text == "Deze lijst is verlopen; voer het commando opnieuw uit."


async def test_send_flow_in_french_and_dutch(world):
    before = len(world.api.calls)
    world.api.push_document(TOKEN, FR, FR, "clients.csv", GOOD_CSV, caption="/send")
    answers = await world.answers(before, FR)
    texts = [c.text for c in answers if c.method == "sendMessage"]
    assert any("3 client(s) lu(s)" in t for t in texts)
    assert any("Aperçu de l'e-mail à een@salons.example" in t and "Objet :" in t for t in texts)
    (pdf,) = [c for c in answers if c.method == "sendDocument"]
    assert pdf.params.get("caption", "").startswith("PDF provisoire pour")
    (ask,) = [c for c in answers if c.buttons]
    assert ask.text == "Envoyer 3 invitations maintenant ?"
    go = next(data for label, data in ask.buttons if label == "Envoyer 3")
    before = len(world.api.calls)
    await world.press(FR, FR, go, 1)
    summary = await _summary_of(world, FR, before, ("Terminé", "3 nouveau"))
    assert "3 nouveau(x) client(s) importé(s)" in summary and "Terminé : 3 invité(s)" in summary
    edits = [c.text for c in world.api.calls[before:] if c.method == "editMessageText"]
    assert "Envoi de 3 invitation(s)…" in edits and "3 sur 3 invité(s)." in edits

    before = len(world.api.calls)
    world.api.push_document(TOKEN, NL, NL, "slecht.csv", BAD_CSV, caption="/send")
    text = "\n".join(c.text for c in await world.answers(before, NL))
    assert "slecht.csv: er werd niets geïmporteerd" in text

    before = len(world.api.calls)
    world.api.push_document(TOKEN, NL, NL, "klanten.csv", GOOD_CSV, caption="/send")
    answers = await world.answers(before, NL)
    (ask,) = [c for c in answers if c.buttons]
    assert ask.text == "Nu 3 uitnodigingen versturen?"
    cancel = next(data for label, data in ask.buttons if label == "Annuleren")
    (cancelled,) = await world.press(NL, NL, cancel, 1)
    assert cancelled.text == "Geannuleerd: er werd niets verstuurd."
    (again,) = await world.press(NL, NL, cancel, 1)
    assert again.text.startswith("Deze bevestiging is verlopen")


async def _summary_of(world: World, chat: int, before: int, starts: tuple[str, ...]) -> str:
    import asyncio
    import time

    deadline = time.monotonic() + 60
    while True:
        done = [
            c.text
            for c in world.api.calls[before:]
            if c.method == "sendMessage" and c.chat_id == chat and c.text.startswith(starts)
        ]
        if done:
            return done[-1]
        assert time.monotonic() < deadline, "no summary of the send"
        await asyncio.sleep(0.1)


async def test_changes_decided_in_the_members_language(world):
    rt, slug, who = world.rt, world.a.slug, "taal@mooi.example"
    invitation = await _invite(rt, slug, who)
    await _reply(rt, slug, invitation, CHANGE_5, who)
    (cr,) = await _requests(rt, (await _contract(rt, slug, who)).id)

    listing = await world.say(FR, "/changes")
    assert f"Demande de modification {cr.id} – contrat {slug}-" in listing[0].text
    assert (f"Accepter {cr.id} tel quel", f"cr:approve:{cr.id}") in listing[0].buttons
    nl = await _one(world, NL, "/changes")
    assert f"Wijzigingsverzoek {cr.id}" in nl and "Huidig artikel 5" in nl
    assert "Gebruik: /reject ID reden" in await _one(world, NL, f"/reject {cr.id}")

    # The notice in A's group is Dutch (the tenant's language), whoever reads it.
    (notice,) = await world.api.wait_for(
        "sendMessage", lambda c: c.chat_id == GROUP_A and "[change_request]" in c.text
    )
    assert notice.text.startswith(f"[change_request] Wijzigingsverzoek {cr.id} – contract")
    assert "Beslis: /approve" in notice.text
    async with scoped(world.rt) as s:
        stored = (
            await s.scalars(
                select(Notification).where(
                    Notification.tenant_id == world.tid(world.a),
                    Notification.kind == "change_request",
                )
            )
        ).one()
    assert stored.text.startswith(f"Change request {cr.id} – contract")  # the English, kept

    decided = await _one(world, NL, f"/approve {cr.id}")
    assert f"Wijzigingsverzoek {cr.id} goedgekeurd" in decided
    again = await _one(world, FR, f"/reject {cr.id} non")
    assert f"La demande de modification {cr.id} a déjà été acceptée par telegram:{NL}" in again
    again = await _one(world, EN, f"/approve {cr.id}")
    assert f"Change request {cr.id} was already approved by telegram:{NL}" in again


async def test_a_handler_error_is_answered_in_the_askers_language(world):
    registry = REGISTRY.copy()

    @registry.command("boom", roles=ADMIN, help="fails on purpose")
    async def boom(sc: StaffContext) -> None:
        raise RuntimeError("on purpose")

    await world.chat.stop()
    await start_chat(world, registry)
    assert await _one(world, FR, "/boom") == "Une erreur s'est produite ; l'équipe a été prévenue."
    assert await _one(world, NL, "/boom") == "Er ging iets mis; het team is verwittigd."
    assert [type(e) for e in world.errors] == [RuntimeError, RuntimeError]
    world.errors.clear()
    # Staff hear of it in the group in the tenant's language (Dutch), for both.
    told = await world.api.wait_for(
        "sendMessage", lambda c: c.chat_id == GROUP_A and "[chat_error]" in c.text, count=2
    )
    assert [c.text for c in told] == [
        "[chat_error] Een verzoek in de teamchat (/boom) mislukte met RuntimeError; het "
        "servicelog heeft de details."
    ] * 2


async def test_a_stranger_is_refused_in_the_bots_language(world):
    # TOKEN serves a Dutch and a French tenant: English.
    text = await _one(world, STRANGER, "/help")
    assert text.startswith("Sorry, this bot only answers the staff")
    # TOKEN_C serves one Dutch tenant whose staff chat speaks French: French.
    before = len(world.api.calls)
    world.api.push_message(TOKEN_C, STRANGER, STRANGER, "/help")
    (refusal,) = await world.answers(before, STRANGER)
    assert refusal.text.startswith("Désolé, ce bot ne répond qu'à l'équipe")
    # In A's group, someone A does not list is refused in A's language.
    assert (await _one(world, STRANGER + 1, "/status", chat=GROUP_A)).startswith(
        "Sorry, deze bot antwoordt alleen het team"
    )
    assert len(await events(world, world.a, "chat.refused")) == 1


async def test_group_notices_in_the_tenants_chat_language_old_rows_as_stored(world):
    params = {"ref": "x-1", "customer": "MOOI", "archive_id": "20261205-0a1b2c3d4e"}
    english = notice_text("completed", params)
    async with scoped(world.rt) as s:
        for tenant in (world.a, world.c):
            await notify_staff(s, world.tid(tenant), "completed", english, "c:1", params=params)
        # A row as written before notices had values: delivered with its text.
        await notify_staff(s, world.tid(world.a), "bounce", "Mail to x bounced.", "c:2")
        await notify_grouped(
            s,
            world.tid(world.a),
            "unknown_token",
            "x@spam.example",
            stranger.text_for("unknown_token", "A mail matched no open contract (first)."),
            "message:1",
            params={"detail": "no reply token", "sender": "x@spam.example"},
        )
    a = await world.api.wait_for("sendMessage", lambda c: c.chat_id == GROUP_A, count=3)
    assert [c.text for c in a] == [
        "[completed] Contract x-1 met MOOI is door beide partijen ondertekend en gearchiveerd "
        "(20261205-0a1b2c3d4e).",
        "[bounce] Mail to x bounced.",
        "[unknown_token] Een mail paste bij geen enkel open contract; hij werd bewaard, niet "
        "gebruikt (no reply token; van x@spam.example).",
    ]
    # C is a Dutch tenant whose staff chat speaks French.
    (c,) = await world.api.wait_for("sendMessage", lambda c: c.chat_id == GROUP_C)
    assert c.text == (
        "[completed] Le contrat x-1 avec MOOI est signé par les deux parties et archivé "
        "(20261205-0a1b2c3d4e)."
    )
