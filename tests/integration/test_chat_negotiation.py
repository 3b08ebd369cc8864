"""Negotiation from the staff chat: the change request reaches the tenant's group with the
customer's words and the article; /changes, /approve (or its button), /reject and /counter decide
it; staff of another tenant can neither see nor decide it."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEvent, ChangeRequest
from tests.fixtures.runtime import scoped
from tests.integration.test_negotiation import (
    CHANGE_5,
    _contract,
    _invite,
    _reply,
    _requests,
    _with,
)
from tests.integration.test_own_signature import _mails, _pdf_of
from tests.integration.test_staff_chat import (
    ADMIN_B,
    GROUP_A,
    GROUP_B,
    STAFF_A,
    events,
)

# The staff chat fixture (three tenants, the bot polling the stand-in), re-exported here.
from tests.integration.test_staff_chat import world as world

CHANGE_12 = (
    'Wij willen artikel 12 wijzigen: "De aansprakelijkheid is beperkt tot het bedrag van één '
    'jaarfactuur."'
)
COUNTER_12 = "De aansprakelijkheid van de verwerker is beperkt tot twee jaarfacturen."


async def _two_requests(world, who: str) -> list[ChangeRequest]:
    rt, slug = world.rt, world.a.slug
    invitation = await _invite(rt, slug, who)
    await _reply(rt, slug, invitation, _with(CHANGE_5, CHANGE_12), who)
    contract = await _contract(rt, slug, who)
    assert contract.state == "negotiating"
    return await _requests(rt, contract.id)


async def test_staff_decide_change_requests_in_chat(world, tmp_path):
    from tests.integration.test_negotiation import _pdf_text

    who = "chatneg@mooi.example"
    first, second = await _two_requests(world, who)

    # The group hears of each request with the customer's words and the current article.
    notes = await world.api.wait_for(
        "sendMessage", lambda c: c.chat_id == GROUP_A and "Change request" in c.text, count=2
    )
    by_article = {("artikel 5" if "article 5" in n.text else "12"): n.text for n in notes}
    assert "onderaannemers in met onze voorafgaande" in by_article["artikel 5"]
    assert "Current article 5 – Gebruik sub-verwerkers" in by_article["artikel 5"]

    (listing,) = await world.say(STAFF_A, "/changes")
    assert f"Change request {first.id}" in listing.text and "één jaarfactuur" in listing.text
    assert (f"Approve {first.id} as worded", f"cr:approve:{first.id}") in listing.buttons

    (usage,) = await world.say(STAFF_A, f"/reject {second.id}")
    assert "reason" in usage.text  # a rejection without a reason is not carried out

    (pressed,) = await world.press(STAFF_A, STAFF_A, f"cr:approve:{first.id}", 1)
    assert f"Change request {first.id} approved" in pressed.text and "1 more" in pressed.text
    (again,) = await world.press(STAFF_A, STAFF_A, f"cr:approve:{first.id}", 1)
    assert "already approved by telegram:" in again.text

    (countered,) = await world.say(STAFF_A, f"/counter {second.id} {COUNTER_12}")
    assert "countered" in countered.text and "final version is being rendered" in countered.text

    from bot.jobs import run_jobs_until_idle

    await run_jobs_until_idle(world.rt)
    (final,) = _mails(world.rt, world.a.slug, who, "final")
    text = _pdf_text(_pdf_of(final), tmp_path)
    assert COUNTER_12 in text and "onderaannemers in met onze voorafgaande specifieke" in text
    assert "één jaarfactuur" not in text

    decided = await events(world, world.a, "change.countered")
    assert [e.subject for e in decided] == [f"change_request:{second.id}"]
    commands = await events(world, world.a, "chat.counter")
    assert commands and commands[-1].actor == f"telegram:{STAFF_A}"


async def test_another_tenants_staff_cannot_see_or_decide(world):
    (first, _second) = await _two_requests(world, "chatneg2@mooi.example")
    (listing,) = await world.say(ADMIN_B, "/changes", chat=GROUP_B)
    assert "No open change requests" in listing.text and "jaarfactuur" not in listing.text
    for text in (f"/approve {first.id}", f"/reject {first.id} nee", f"/counter {first.id} x"):
        (answer,) = await world.say(ADMIN_B, text, chat=GROUP_B)
        assert answer.text == f"There is no change request {first.id}."
    (answer,) = await world.press(ADMIN_B, GROUP_B, f"cr:approve:{first.id}", 1)
    assert answer.text == f"There is no change request {first.id}."
    async with scoped(world.rt) as s:
        status = await s.scalar(select(ChangeRequest.status).where(ChangeRequest.id == first.id))
        decided = await s.scalar(
            select(AuditEvent)
            .where(AuditEvent.action.like("change.%ed"))
            .where(AuditEvent.subject == f"change_request:{first.id}")
            .where(AuditEvent.action != "change.requested")
        )
    assert status == "open" and decided is None
