"""The customer's language chooses the mail; the contract stays in the template's language."""

from __future__ import annotations

import email
import email.policy
import mailbox
import subprocess

import pytest

from bot import contracts
from bot.jobs import run_jobs_until_idle
from tests.fixtures.runtime import make_tenant


@pytest.mark.parametrize(
    ("lang", "expected", "question"),
    [
        ("fr", "convention de sous-traitance", "Objet du traitement"),
        ("en", "data processing agreement", "Subject matter of the processing"),
        ("nl", "verwerkersovereenkomst", "Onderwerp van de verwerking"),
    ],
)
async def test_invitation_in_the_customers_language_contract_in_dutch(
    runtime_factory, lang, expected, question
):
    tenant = make_tenant(transport="maildir")
    rt = await runtime_factory([tenant])
    cid = await contracts.add_customer(
        rt,
        tenant.slug,
        name="Salon Belle",
        representative="Anne",
        email=f"anne-{lang}@belle.example",
        language=lang,
    )
    await contracts.invite(rt, tenant.slug, cid)
    await run_jobs_until_idle(rt)
    box = mailbox.Maildir(rt.maildir(tenant.slug, "outbox"), create=False)
    (key,) = list(box.iterkeys())
    msg = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert expected in (str(msg["Subject"]) + text).lower()
    assert question in text
    pdf = next(p for p in msg.iter_attachments()).get_content()
    contract_text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "VERWERKERSOVEREENKOMST" in contract_text  # the contract itself stays Dutch


async def test_an_invalid_answer_is_explained_in_the_customers_language(runtime_factory):
    from bot.app.demo import customer_reply
    from bot.mail.listener import poll_once

    tenant = make_tenant(transport="maildir")
    rt = await runtime_factory([tenant])
    cid = await contracts.add_customer(
        rt,
        tenant.slug,
        name="Salon Belle",
        representative="Anne",
        email="anne@belle.example",
        language="fr",
    )
    await contracts.invite(rt, tenant.slug, cid)
    await run_jobs_until_idle(rt)
    outbox = mailbox.Maildir(rt.maildir(tenant.slug, "outbox"), create=False)
    (invitation,) = [
        email.message_from_bytes(outbox.get_bytes(k), policy=email.policy.default)
        for k in outbox.iterkeys()
    ]
    mailbox.Maildir(rt.maildir(tenant.slug, "inbox"), create=True).add(
        customer_reply(
            invitation, "Bonjour,\n\n2 : bientôt\n\nCordialement,\nAnne", "anne@belle.example"
        )
    )
    await poll_once(rt, tenant.slug)
    await run_jobs_until_idle(rt)
    followups = [
        m
        for k in outbox.iterkeys()
        if (m := email.message_from_bytes(outbox.get_bytes(k), policy=email.policy.default))[
            "X-Dpabot-Kind"
        ]
        == "followup"
    ]
    assert len(followups) == 1
    text = followups[0].get_body(preferencelist=("plain",)).get_content()
    assert "Durée du traitement" in text
    assert "indiquez une durée avec un nombre et une unité" in text
