"""What was understood is said back: the follow-up quotes each field as read, asks back what
was read too uncertainly to fill in, and the final-version mail lists every agreed value."""

from __future__ import annotations

from bot.app.demo import DEMO_ANSWERS, customer_reply
from tests.fixtures.runtime import make_tenant
from tests.integration.test_bad_input import _outbox
from tests.trust_kit import INVITED, deliver, invited


def _text(mail) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


async def test_the_followup_says_back_what_was_read_and_asks_what_was_unsure(runtime_factory):
    tenant = make_tenant()
    rt, [(_, inv)] = await invited(runtime_factory, tenant)
    body = "2. Zolang ons abonnement loopt\nCatgorien vn betrokkenheid: onze klanten\n"
    row = await deliver(rt, tenant.slug, customer_reply(inv, body, INVITED))
    assert row.outcome == "followup_sent"
    (followup,) = [m for m in _outbox(rt, tenant.slug) if m["X-Dpabot-Kind"] == "followup"]
    text = _text(followup)
    assert "Wij lazen in uw antwoord:" in text
    assert "2. Duur van de verwerking: Zolang ons abonnement loopt" in text
    # A label that only looks like one: asked back, and not stored as the answer.
    assert "Bedoelde u dit?" in text and '"onze klanten"' in text
    assert "5. Categorieën van betrokkenen" in text.split("Nog niet beantwoord:")[1]


async def test_the_final_mail_lists_every_agreed_value(runtime_factory):
    tenant = make_tenant()
    rt, [(_, inv)] = await invited(runtime_factory, tenant)
    await deliver(rt, tenant.slug, customer_reply(inv, DEMO_ANSWERS, INVITED))
    (final,) = [m for m in _outbox(rt, tenant.slug) if m["X-Dpabot-Kind"] == "final"]
    text = _text(final)
    assert "Wij lazen voor bijlage 1:" in text
    assert "2. Duur van de verwerking: Zolang de overeenkomst voor de salonsoftware loopt." in text
    assert (
        "5. Categorieën van betrokkenen bij de verwerker: Klanten van het schoonheidsinstituut."
        in text
    )
