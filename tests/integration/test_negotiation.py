"""Negotiation through the mail pipeline: a customer's change request holds the contract until
staff decide; approved or counter-proposed wording is what the final, signed PDF prints, a
rejection reaches the customer in their language, and each step is a version and an audit event.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import contracts
from bot.app.demo import DEMO_ANSWERS, customer_reply
from bot.contracts import negotiation
from bot.core.runtime import Runtime
from bot.errors import WorkflowError
from bot.jobs import run_jobs_until_idle
from bot.mail.listener import poll_once
from storage.errors import NotFound
from storage.models import (
    ArchiveEntry,
    AuditEvent,
    ChangeRequest,
    Contract,
    ContractVersion,
    Notification,
)
from tests.fixtures.runtime import make_tenant, scoped
from tests.integration.test_archive_verify import open_for_module
from tests.integration.test_own_signature import _deliver, _mails, _pdf_of

CHANGE_5 = (
    'Wij willen artikel 5 wijzigen: "De verwerker schakelt enkel onderaannemers in met onze '
    'voorafgaande specifieke schriftelijke toestemming."'
)


# The demo's answers with more lines before the closing (after it, they read as a signature).
def _with(*extra: str) -> str:
    head, _, tail = DEMO_ANSWERS.partition("Met vriendelijke groeten")
    return head + "\n\n".join(extra) + "\n\nMet vriendelijke groeten" + tail


COUNTER_5 = (
    "De verwerker schakelt onderaannemers in na voorafgaande schriftelijke kennisgeving; de "
    "klant kan binnen dertig dagen bezwaar maken."
)


@pytest.fixture(scope="module")
async def world(database_url, tmp_path_factory) -> AsyncIterator[dict[str, Any]]:
    a, b = make_tenant(transport="maildir"), make_tenant(transport="maildir")
    async for rt in open_for_module(tmp_path_factory.mktemp("neg") / "var", database_url, [a, b]):
        yield {"rt": rt, "a": a.slug, "b": b.slug}


async def _invite(rt: Runtime, slug: str, email_: str, lang: str = "nl") -> EmailMessage:
    cid = await contracts.add_customer(
        rt,
        slug,
        name=f"Salon {email_}",
        enterprise_number="BE0840.465.705",
        representative="Karolien Piskor",
        email=email_,
        language=lang,
    )
    await contracts.invite(rt, slug, cid)
    await run_jobs_until_idle(rt)
    (invitation,) = _mails(rt, slug, email_, "invitation")
    return invitation


async def _reply(rt: Runtime, slug: str, original: EmailMessage, body: str, email_: str) -> None:
    _deliver(rt, slug, customer_reply(original, body, email_))
    await poll_once(rt, slug)
    await run_jobs_until_idle(rt)


async def _contract(rt: Runtime, slug: str, email_: str) -> Contract:
    from storage.models import Customer

    async with scoped(rt) as s:
        c = await s.scalar(
            select(Contract)
            .join(Customer, Customer.id == Contract.customer_id)
            .where(Customer.email == email_, Contract.tenant_id == rt.tenant_ids[slug])
        )
        assert c is not None
        return c


async def _requests(rt: Runtime, contract_id: int) -> list[ChangeRequest]:
    async with scoped(rt) as s:
        rows = await s.scalars(
            select(ChangeRequest)
            .where(ChangeRequest.contract_id == contract_id)
            .order_by(ChangeRequest.id)
        )
        return list(rows)


def _pdf_text(pdf: bytes, tmp: Path) -> str:
    path = tmp / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return " ".join(out.stdout.split())


async def test_counter_proposal_is_what_gets_signed(world, tmp_path) -> None:
    rt, slug = world["rt"], world["a"]
    who = "neg1@mooi.example"
    invitation = await _invite(rt, slug, who)
    await _reply(rt, slug, invitation, _with(CHANGE_5), who)

    contract = await _contract(rt, slug, who)
    assert contract.state == "negotiating"
    assert _mails(rt, slug, who, "final") == []  # nothing final while staff decide
    (ack,) = _mails(rt, slug, who, "followup")
    assert "doorgegeven" in ack.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    (cr,) = await _requests(rt, contract.id)
    assert (cr.status, cr.article) == ("open", "5")
    async with scoped(rt) as s:
        note = await s.scalar(
            select(Notification).where(Notification.subject == f"change_request:{cr.id}")
        )
    assert note is not None and "onderaannemers in met onze voorafgaande" in note.text
    assert "Current article 5 – Gebruik sub-verwerkers" in note.text  # next to the request

    # "AKKOORD" now does not sign anything: the text is not settled.
    await _reply(rt, slug, invitation, "AKKOORD", who)
    assert _mails(rt, slug, who, "final") == []

    decision = await negotiation.decide_change(
        rt, slug, cr.id, actor="telegram:42", action="counter", text=COUNTER_5
    )
    assert decision.finalizing and decision.status == "countered" and decision.still_open == 0
    await run_jobs_until_idle(rt)
    (told,) = _mails(rt, slug, who, "change_decision")
    body = told.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert COUNTER_5 in " ".join(body.split()) and "aparte e-mail" in body
    (final,) = _mails(rt, slug, who, "final")
    text = _pdf_text(_pdf_of(final), tmp_path)
    assert "Wijzigingen" in text and COUNTER_5 in text
    assert "Dit artikel is voor deze overeenkomst gewijzigd" in text
    assert "met onze voorafgaande specifieke" not in text  # only approved wording is printed

    async with scoped(rt) as s:
        versions = list(
            await s.scalars(
                select(ContractVersion)
                .where(ContractVersion.contract_id == contract.id)
                .order_by(ContractVersion.number)
            )
        )
    last = versions[-1]
    assert [a["text"] for a in last.amendments] == [COUNTER_5]
    assert last.diff["amendments"][0]["after"] == COUNTER_5
    assert "Gebruik sub-verwerkers" not in last.diff["amendments"][0]["before"]
    assert last.diff["amendments"][0]["before"].startswith("De verwerker neemt geen andere")

    await _reply(rt, slug, final, "AKKOORD\n\nKarolien Piskor", who)
    contract = await _contract(rt, slug, who)
    assert contract.state == "completed"
    async with scoped(rt) as s:
        entry = await s.scalar(select(ArchiveEntry).where(ArchiveEntry.contract_id == contract.id))
        actions = list(
            await s.scalars(
                select(AuditEvent.action).where(AuditEvent.subject == f"change_request:{cr.id}")
            )
        )
    assert entry is not None
    signed = await rt.archive.async_get(entry.path, tenant=slug)
    assert COUNTER_5 in _pdf_text(signed, tmp_path)
    assert actions == ["change.requested", "change.countered"]

    with pytest.raises(WorkflowError, match="already countered by telegram:42"):
        await negotiation.decide_change(
            rt, slug, cr.id, actor="telegram:7", action="reject", text="x"
        )


async def test_rejection_reaches_the_customer_in_french(world) -> None:
    rt, slug = world["rt"], world["a"]
    who = "neg2@mooi.example"
    invitation = await _invite(rt, slug, who, lang="fr")
    await _reply(
        rt,
        slug,
        invitation,
        "Bonjour,\n\nPourriez-vous modifier l'article 12 : la responsabilité du sous-traitant "
        "doit être illimitée.\n\nCordialement,\nMarie",
        who,
    )
    contract = await _contract(rt, slug, who)
    (cr,) = await _requests(rt, contract.id)
    assert contract.state == "negotiating" and cr.article == "12"

    with pytest.raises(WorkflowError, match="needs a reason"):
        await negotiation.decide_change(rt, slug, cr.id, actor="telegram:42", action="reject")
    decision = await negotiation.decide_change(
        rt,
        slug,
        cr.id,
        actor="telegram:42",
        action="reject",
        text="La responsabilité suit l'article 82 du RGPD.",
    )
    # The annex answers are still missing: back to collecting, and the mail asks for them.
    assert (decision.state, decision.finalizing) == ("collecting", False)
    await run_jobs_until_idle(rt)
    (told,) = _mails(rt, slug, who, "change_decision")
    body = " ".join(told.get_body(("plain",)).get_content().split())  # type: ignore[union-attr]
    assert "Refusée ; l'article reste inchangé. Motif : La responsabilité suit" in body
    assert "Article 12 – Aansprakelijkheid" in body
    assert "il nous faut encore" in body
    assert not [p for p in told.iter_attachments()]  # nothing changed: no new version
    assert (await _contract(rt, slug, who)).current_version == 1


async def test_two_requests_one_approved_one_pending(world, tmp_path) -> None:
    rt, slug = world["rt"], world["a"]
    who = "neg3@mooi.example"
    invitation = await _invite(rt, slug, who)
    await _reply(
        rt,
        slug,
        invitation,
        _with(
            CHANGE_5,
            'Wij willen artikel 12 wijzigen: "De aansprakelijkheid is beperkt tot het bedrag '
            'van één jaarfactuur."',
        ),
        who,
    )
    contract = await _contract(rt, slug, who)
    first, second = await _requests(rt, contract.id)
    assert (first.article, second.article) == ("5", "12")
    listed = await negotiation.open_requests(rt, slug, "telegram:42")
    assert [i for i, _ in listed] == [first.id, second.id] and "één jaarfactuur" in listed[1][1]

    decision = await negotiation.decide_change(
        rt, slug, first.id, actor="telegram:42", action="approve", text="ok voor ons"
    )
    assert (decision.state, decision.still_open, decision.finalizing) == ("negotiating", 1, False)
    await run_jobs_until_idle(rt)
    (told,) = _mails(rt, slug, who, "change_decision")
    body = " ".join(told.get_body(("plain",)).get_content().split())  # type: ignore[union-attr]
    assert "Aanvaard" in body and "andere voorstellen" in body
    draft = _pdf_text(_pdf_of(told), tmp_path)  # the new version, changes marked
    assert "Wijzigingen" in draft and "met onze voorafgaande specifieke schriftelijke" in draft
    assert _mails(rt, slug, who, "final") == []

    await negotiation.decide_change(
        rt, slug, second.id, actor="telegram:42", action="reject", text="Niet bespreekbaar."
    )
    await run_jobs_until_idle(rt)
    (final,) = _mails(rt, slug, who, "final")
    text = _pdf_text(_pdf_of(final), tmp_path)
    assert "met onze voorafgaande specifieke schriftelijke" in text  # approved: in force
    assert "één jaarfactuur" not in text  # rejected: never printed


async def test_a_tenant_cannot_decide_another_tenants_request(world) -> None:
    rt = world["rt"]
    who = "neg4@mooi.example"
    invitation = await _invite(rt, world["a"], who)
    await _reply(rt, world["a"], invitation, CHANGE_5, who)
    (cr,) = await _requests(rt, (await _contract(rt, world["a"], who)).id)
    with pytest.raises(NotFound):
        await negotiation.decide_change(rt, world["b"], cr.id, actor="telegram:9", action="approve")
    assert await negotiation.open_requests(rt, world["b"], "telegram:9") == []
    assert (await _requests(rt, cr.contract_id))[0].status == "open"
