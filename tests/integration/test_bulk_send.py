"""Importing customers and inviting them in bulk, on the real database and mail transports."""

from __future__ import annotations

import asyncio
import email
import email.policy
import mailbox
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from bot import contracts
from bot.contracts import bulk, customer_import
from bot.core.settings import SecretRef, SmtpSettings, TenantSettings
from bot.outbox import send_messages
from handlers.reader.customer_file import read_customer_file
from storage import audit
from storage.errors import NotFound
from storage.models import Contract, Customer, Message, Notification
from templates import read_form_fields
from tests.fixtures.runtime import make_tenant, scoped

CSV = """Naam;E-mail;Vertegenwoordiger;Ondernemingsnummer;Functie;Taal
MOOI Schoonheidsverzorging;karolien@mooi.example;Karolien Piskor;BE0840.465.705;Zaakvoerder;nl
UTOPIA;tineke@utopia.example;Tineke Verellen;;;nl
Boulangerie Dupont;marie@dupont.example;Marie Dupont;;Gérante;fr
Green Garden Ltd;sam@greengarden.example;Sam Green;;Director;en
Café Élan;eve@elan.example;Ève Müller;0840465705;;fr
"""


def rows(text: str = CSV) -> tuple:
    parsed = read_customer_file(text.encode())
    assert parsed.ok, parsed.problems
    return parsed.rows


def outbox(rt, slug: str) -> list[email.message.EmailMessage]:
    box = mailbox.Maildir(rt.maildir(slug, "outbox"), create=True)
    return [
        email.message_from_bytes(box.get_bytes(k), policy=email.policy.default)  # type: ignore[misc]
        for k in box.iterkeys()
    ]


async def count(rt, model, slug: str) -> int:
    async with scoped(rt) as s:
        return int(
            await s.scalar(
                select(func.count())
                .select_from(model)
                .where(model.tenant_id == rt.tenant_ids[slug])
            )
            or 0
        )


async def test_import_then_send_all_puts_one_invitation_with_pdf_per_customer_in_the_outbox(
    runtime_factory,
):
    tenant = make_tenant()
    rt = await runtime_factory([tenant])
    slug = tenant.slug

    result = await customer_import.import_customers(rt, slug, rows(), "test:staff")
    assert (result.imported, result.existing, len(result.customer_ids)) == (5, (), 5)
    # The same file again: every row is a customer already, counted, nothing duplicated.
    again = await customer_import.import_customers(rt, slug, rows(), "test:staff")
    assert again.imported == 0
    assert [(e.row, e.email) for e in again.existing][:2] == [
        (2, "karolien@mooi.example"),
        (3, "tineke@utopia.example"),
    ]
    assert again.customer_ids == result.customer_ids
    assert await count(rt, Customer, slug) == 5

    calls: list[tuple[int, int, int]] = []

    async def progress(done: int, total: int, failures: int) -> None:
        calls.append((done, total, failures))

    summary = await bulk.send_invitations(rt, slug, bulk.PENDING, "test:staff", progress=progress)
    assert len(summary.invited) == 5 and summary.skipped == [] and summary.failed == []
    assert sorted(calls) == [(n, 5, 0) for n in range(1, 6)]
    delivery = await bulk.deliver(rt, slug, summary)
    assert (delivery.sent, delivery.waiting) == (5, 0)

    mails = outbox(rt, slug)
    assert len(mails) == 5
    by_to = {str(m["To"]): m for m in mails}
    assert set(by_to) == {r.email for r in rows()}
    for mail in mails:
        assert mail["X-Dpabot-Kind"] == "invitation"
        (pdf,) = [p for p in mail.iter_attachments() if p.get_content_type() == "application/pdf"]
        data = pdf.get_content()
        assert data.startswith(b"%PDF")
        assert "subject" in read_form_fields(data)  # the draft's fillable Bijlage 1

    # Each customer's language chooses the mail.
    def text(to: str) -> str:
        return by_to[to].get_body(preferencelist=("plain",)).get_content()

    assert text("karolien@mooi.example").startswith("Beste Karolien Piskor,")
    assert text("marie@dupont.example").startswith("Bonjour Marie Dupont,")

    async with scoped(rt) as s:
        states = (
            await s.scalars(select(Contract.state).where(Contract.tenant_id == rt.tenant_ids[slug]))
        ).all()
        events = await audit.events(s, rt.tenant_ids[slug])
        assert (await audit.check_chain(s, rt.tenant_ids[slug])).ok
    assert states == ["invited"] * 5
    imported = [e for e in events if e.action == "customers.imported"]
    assert [e.detail for e in imported] == [
        {"rows": 5, "imported": 5, "already_customers": 0},
        {"rows": 5, "imported": 0, "already_customers": 5},
    ]
    invited = [e for e in events if e.action == "contract.invited"]
    assert len(invited) == 5 and {e.actor for e in invited} == {"test:staff"}
    (sent_event,) = [e for e in events if e.action == "invitations.sent"]
    assert sent_event.detail == {"requested": "pending", "invited": 5, "skipped": 0, "failed": 0}

    # Nobody is invited twice: all pending → none left; named ids → skipped.
    assert (await bulk.send_invitations(rt, slug, bulk.PENDING, "test:staff")).total == 0
    named = await bulk.send_invitations(rt, slug, list(result.customer_ids[:2]), "test:staff")
    assert named.skipped == list(result.customer_ids[:2]) and named.invited == []
    assert await count(rt, Contract, slug) == 5


async def test_another_tenants_customer_is_unknown_and_nothing_is_sent(runtime_factory):
    a, b = make_tenant(), make_tenant()
    rt = await runtime_factory([a, b])
    (b_id,) = (await customer_import.import_customers(rt, b.slug, rows()[:1], "test")).customer_ids
    (a_id,) = (await customer_import.import_customers(rt, a.slug, rows()[1:2], "test")).customer_ids

    summary = await bulk.send_invitations(rt, a.slug, [b_id, 999_999], "test")
    assert summary.invited == [] and summary.skipped == []
    assert [(f.customer_id, f.customer, f.reason) for f in summary.failed] == [
        (b_id, "", f"There is no customer {b_id} for this tenant."),
        (999_999, "", "There is no customer 999999 for this tenant."),
    ]
    await bulk.deliver(rt, a.slug, summary)
    assert outbox(rt, a.slug) == [] and outbox(rt, b.slug) == []
    assert await count(rt, Contract, a.slug) == 0 and await count(rt, Contract, b.slug) == 0
    with pytest.raises(NotFound):
        await customer_import.preview(rt, a.slug, b_id)
    plan = await bulk.plan_invitations(rt, a.slug, [a_id, b_id])
    assert [c.id for c in plan.customers] == [a_id] and plan.unknown == (b_id,)
    # Tenant B's pending customers are B's only.
    pending = await bulk.plan_invitations(rt, b.slug, bulk.PENDING)
    assert [c.id for c in pending.customers] == [b_id]


async def test_one_failure_does_not_stop_the_batch(runtime_factory):
    tenant = make_tenant()
    rt = await runtime_factory([tenant])
    ok_ids = list(
        (await customer_import.import_customers(rt, tenant.slug, rows(), "test")).customer_ids
    )
    # A name the contract's font cannot print (added around the file check) fails its render.
    bad_id = await contracts.add_customer(
        rt,
        tenant.slug,
        name="Shop \U0001f6cd",
        email="shop@shop.example",
        representative="Sara",
    )
    ids = [ok_ids[0], bad_id, *ok_ids[1:]]
    summary = await bulk.send_invitations(rt, tenant.slug, ids, "test")
    assert sorted(i.customer_id for i in summary.invited) == sorted(ok_ids)
    (failure,) = summary.failed
    assert (failure.customer_id, failure.customer) == (bad_id, "Shop \U0001f6cd")
    assert "cannot print" in failure.reason
    assert str(failure).startswith(f"customer {bad_id} (Shop \U0001f6cd): ")
    assert (await bulk.deliver(rt, tenant.slug, summary)).sent == 5
    assert len(outbox(rt, tenant.slug)) == 5


async def test_two_sends_at_once_invite_each_customer_once(runtime_factory):
    tenant = make_tenant()
    rt = await runtime_factory([tenant])
    await customer_import.import_customers(rt, tenant.slug, rows(), "test")
    first, second = await asyncio.gather(
        bulk.send_invitations(rt, tenant.slug, bulk.PENDING, "one"),
        bulk.send_invitations(rt, tenant.slug, bulk.PENDING, "two"),
    )
    assert len(first.invited) + len(second.invited) == 5
    assert len(first.skipped) + len(second.skipped) == 5
    assert first.failed == [] and second.failed == []
    assert await count(rt, Contract, tenant.slug) == 5


async def test_preview_is_the_invitation_and_stores_nothing(runtime_factory):
    tenant = make_tenant()
    rt = await runtime_factory([tenant])
    (cid, *_) = (
        await customer_import.import_customers(rt, tenant.slug, rows(), "test")
    ).customer_ids
    shown = await customer_import.preview(rt, tenant.slug, cid)
    assert shown.to == "karolien@mooi.example"
    assert "MOOI Schoonheidsverzorging" in shown.subject and "[" not in shown.subject
    assert "Beste Karolien Piskor" in shown.text
    assert "1." in shown.text and "Voorstel" in shown.text
    assert "Karolien Piskor" in shown.html
    assert shown.pdf.startswith(b"%PDF") and "subject" in read_form_fields(shown.pdf)
    assert shown.pdf_filename == "verwerkersovereenkomst-ontwerp.pdf"
    assert await count(rt, Contract, tenant.slug) == 0
    assert await count(rt, Message, tenant.slug) == 0
    # The mail sent later has the same words, with its contract's reference.
    summary = await bulk.send_invitations(rt, tenant.slug, [cid], "test")
    await bulk.deliver(rt, tenant.slug, summary)
    (sent,) = outbox(rt, tenant.slug)
    contract_id = summary.invited[0].contract_id
    assert str(sent["Subject"]) == f"{shown.subject} [{tenant.slug}-{contract_id}]"
    body = sent.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert body.replace(f"{tenant.slug}-{contract_id}", "") == shown.text.replace(
        f"{tenant.slug}-{contract_id}", ""
    )


async def test_preview_of_a_file_row_not_imported_yet(runtime_factory):
    tenant = make_tenant()
    rt = await runtime_factory([tenant])
    row = rows()[2]  # Boulangerie Dupont, in French
    shown = await customer_import.preview_row(rt, tenant.slug, row)
    assert shown.to == "marie@dupont.example"
    assert shown.text.startswith("Bonjour Marie Dupont,")
    assert shown.pdf.startswith(b"%PDF")
    assert await count(rt, Customer, tenant.slug) == 0
    assert await count(rt, Contract, tenant.slug) == 0


def _smtp_tenant(smtpd, tmp_path: Path, monkeypatch) -> TenantSettings:
    ca = tmp_path / "smtpd.pem"
    ca.write_bytes(smtpd.cert_pem)
    monkeypatch.setenv("TEST_SMTP_PW", smtpd.password)
    return make_tenant(
        transport="imap",  # mail out over SMTP; no listener runs in these tests
        smtp=SmtpSettings(
            host=smtpd.host,
            port=smtpd.port,
            username=smtpd.username,
            password=SecretRef(env="TEST_SMTP_PW"),
            ca_file=ca,
        ),
    )


def _many(n: int) -> tuple:
    lines = "\n".join(
        f"Klant {i} BV;klant{i}@klanten.example;Vertegenwoordiger {i};;;{['nl', 'fr', 'en'][i % 3]}"
        for i in range(n)
    )
    return rows(f"naam;email;contact;btw;functie;taal\n{lines}")


async def test_send_now_over_smtp_delivers_every_invitation(
    runtime_factory, smtpd, tmp_path: Path, monkeypatch
):
    tenant = _smtp_tenant(smtpd, tmp_path, monkeypatch)
    rt = await runtime_factory([tenant])
    smtpd.clear()
    await customer_import.import_customers(rt, tenant.slug, _many(12), "t")
    summary, delivery = await bulk.send_now(rt, tenant.slug, bulk.PENDING, "test")
    assert (len(summary.invited), delivery.sent, delivery.waiting) == (12, 12, 0)
    received = await smtpd.wait_for(12)
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(
        f"klant{i}@klanten.example" for i in range(12)
    )
    for r in received:
        msg = email.message_from_bytes(r.raw, policy=email.policy.default)
        assert any(p.get_content_type() == "application/pdf" for p in msg.iter_attachments())  # type: ignore[attr-defined]
    async with scoped(rt) as s:
        stored = (
            await s.execute(
                select(Message.outcome, Message.raw).where(
                    Message.tenant_id == rt.tenant_ids[tenant.slug]
                )
            )
        ).all()
    assert [outcome for outcome, _ in stored] == ["sent"] * 12
    # Sent as stored, byte for byte (SMTP only adds CRLF line ends).
    # The server got the bytes stored, as they are (CRLF line ends: the wire's own).
    assert {r.raw for r in received} == {raw for _, raw in stored}


async def test_a_batch_shares_one_connection_and_a_refused_mail_fails_alone_at_once(
    runtime_factory, smtpd, tmp_path: Path, monkeypatch
):
    tenant = _smtp_tenant(smtpd, tmp_path, monkeypatch)
    rt = await runtime_factory([tenant])
    smtpd.clear()
    smtpd.refuse("klant3@klanten.example")
    await customer_import.import_customers(rt, tenant.slug, _many(6), "t")
    summary = await bulk.send_invitations(rt, tenant.slug, bulk.PENDING, "test")
    assert len(summary.invited) == 6  # queued; no worker runs here
    async with scoped(rt) as s:
        ids = list(
            (
                await s.scalars(
                    select(Message.id).where(Message.tenant_id == rt.tenant_ids[tenant.slug])
                )
            ).all()
        )

    # What the send job does: every mail tried, the others sent; the refusal for good (550)
    # is not tried again but marked failed at once, and staff are told which and why.
    await send_messages(rt, tenant.slug, ids)
    received = smtpd.messages
    assert sorted(r.rcpt_tos[0] for r in received) == [
        f"klant{i}@klanten.example" for i in (0, 1, 2, 4, 5)
    ]
    assert len({r.peer for r in received}) == 1  # one connection, the refusal included

    async def outcomes() -> dict[str, str]:
        async with scoped(rt) as s:
            got = await s.execute(
                select(Message.to_addr, Message.outcome).where(Message.id.in_(ids))
            )
            return {str(to): str(outcome) for to, outcome in got.all()}

    assert {to for to, o in (await outcomes()).items() if o != "sent"} == {"klant3@klanten.example"}
    assert (await outcomes())["klant3@klanten.example"] == "failed"
    async with scoped(rt) as s:
        (note,) = (
            await s.scalars(
                select(Notification).where(Notification.tenant_id == rt.tenant_ids[tenant.slug])
            )
        ).all()
    assert note.kind == "undeliverable"
    assert "klant3@klanten.example" in note.text and "550" in note.text

    # Run again once the server takes the address: only the mail left goes out.
    smtpd.clear()
    await send_messages(rt, tenant.slug, ids)
    (again,) = await smtpd.wait_for(1)
    assert again.rcpt_tos == ["klant3@klanten.example"]
    assert set((await outcomes()).values()) == {"sent"}


async def test_a_draft_that_cannot_be_stored_fails_alone(runtime_factory):
    tenant = make_tenant()
    rt = await runtime_factory([tenant])
    await customer_import.import_customers(rt, tenant.slug, rows()[:3], "test")
    plan = await bulk.plan_invitations(rt, tenant.slug, bulk.PENDING)
    drafts = [await contracts.render_invitation(tenant, c) for c in plan.customers]
    # The second customer is gone by the time the batch is stored.
    gone = plan.customers[1].id
    async with scoped(rt) as s:
        await s.execute(delete(Customer).where(Customer.id == gone))

    outcomes = await bulk.store_drafts(rt, tenant.slug, drafts, "test")
    assert [c.id for c, _ in outcomes] == [c.id for c in plan.customers]
    assert isinstance(outcomes[1][1], NotFound)
    assert str(outcomes[1][1]) == f"There is no customer {gone} for this tenant."
    assert all(isinstance(o, int) for _, o in (outcomes[0], outcomes[2]))
    assert await count(rt, Contract, tenant.slug) == 2
    assert await count(rt, Message, tenant.slug) == 2
    async with scoped(rt) as s:
        events = await audit.events(s, rt.tenant_ids[tenant.slug])
        assert (await audit.check_chain(s, rt.tenant_ids[tenant.slug])).ok
    assert sorted(e.detail["customer"] for e in events if e.action == "contract.invited") == sorted(
        c.id for c in plan.customers if c.id != gone
    )


async def test_raw_send_of_8bit_text_and_bcc(smtpd):
    from bot.transports import SmtpSender

    smtpd.clear()
    sender = SmtpSender(
        smtpd.host,
        smtpd.port,
        username=smtpd.username,
        password=smtpd.password,
        tls_context=smtpd.tls_context,
    )
    raw = (
        b"From: Dpa <dpa@t.example>\nTo: a@a.example\nBcc: archive@t.example\n"
        b"Subject: x\nMessage-ID: <1@t.example>\n\nhello\n"
    )
    await sender.send_raw(raw)
    (got,) = await smtpd.wait_for(1)
    assert sorted(got.rcpt_tos) == ["a@a.example", "archive@t.example"]
    assert b"Bcc" not in got.raw and got.mail_from == "dpa@t.example"
    eight_bit = (
        "From: dpa@t.example\nTo: b@b.example\nSubject: x\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        "Geachte heer Müller, één vraag\n"
    ).encode()
    await sender.send_raw(eight_bit)
    _, got = await smtpd.wait_for(2)
    assert got.rcpt_tos == ["b@b.example"]
    assert got.raw.replace(b"\r\n", b"\n") == eight_bit


async def test_a_progress_report_that_fails_ends_the_send_instead_of_hanging(runtime_factory):
    tenant = make_tenant()
    rt = await runtime_factory([tenant])
    await customer_import.import_customers(rt, tenant.slug, rows(), "test")

    async def progress(done: int, total: int, failures: int) -> None:
        if done == 2:
            raise RuntimeError("the chat message to edit is gone")

    with pytest.raises(RuntimeError, match="is gone"):
        await asyncio.wait_for(
            bulk.send_invitations(rt, tenant.slug, bulk.PENDING, "test", progress=progress), 60
        )
