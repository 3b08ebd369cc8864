"""Every reply APPENDed is processed exactly once through Dovecot restarts, silent drops,
dpabot restarts and UIDVALIDITY changes (real Dovecot, aiosmtpd, PostgreSQL)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import shutil
import time
from pathlib import Path

from sqlalchemy import func, select

from bot import contracts
from bot.app.demo import customer_reply
from bot.app.serve import run
from bot.core.settings import ImapSettings, SecretRef, SmtpSettings
from bot.jobs import run_jobs_until_idle
from bot.mail.listener import listen
from storage.models import Message
from tests.fixtures.runtime import make_tenant, scoped
from tests.integration.test_transports import Proxy

INVITED = "karolien@mooi-schoonheid.example"
PARTIAL = "1. Klantenbeheer\n"


def imap_tenant(smtpd, dovecot, user, tmp_path: Path, monkeypatch, port=None):
    ca = tmp_path / "smtpd.pem"
    ca.write_bytes(smtpd.cert_pem)
    monkeypatch.setenv("TEST_IMAP_PW", dovecot.password)
    monkeypatch.setenv("TEST_SMTP_PW", smtpd.password)
    return make_tenant(
        transport="imap",
        smtp=SmtpSettings(
            host=smtpd.host,
            port=smtpd.port,
            username=smtpd.username,
            password=SecretRef(env="TEST_SMTP_PW"),
            ca_file=ca,
        ),
        imap=ImapSettings(
            host=dovecot.host,
            port=port or dovecot.port,
            username=user,
            password=SecretRef(env="TEST_IMAP_PW"),
            ssl=False,
            idle_seconds=2,
            timeout=2,
        ),
    )


async def invite(rt, slug, smtpd):
    smtpd.clear()
    cid = await contracts.add_customer(
        rt, slug, name="MOOI", representative="Karolien Piskor", email=INVITED
    )
    await contracts.invite(rt, slug, cid)
    await run_jobs_until_idle(rt)
    (sent,) = await smtpd.wait_for(1)
    return email.message_from_bytes(sent.raw, policy=email.policy.default)


async def counts(rt, slug) -> tuple[int, int, int]:
    """(replies stored, replies not yet processed, follow-ups sent)."""
    async with scoped(rt) as s:

        def n(*where):
            return s.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.tenant_id == rt.tenant_ids[slug], *where)
            )

        return (
            await n(Message.direction == "in"),
            await n(Message.direction == "in", Message.outcome == "pending"),
            await n(Message.kind == "followup", Message.outcome == "sent"),
        )


async def settle(rt, slug, smtpd, replies: int, timeout: float = 30) -> None:  # noqa: ASYNC109
    """Wait until `replies` replies are processed and as many follow-ups went out."""
    deadline = time.monotonic() + timeout
    while True:
        stored, pending, followups = await counts(rt, slug)
        if stored >= replies and not pending and followups >= replies:
            break
        assert time.monotonic() < deadline, (stored, pending, followups)
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # anything processed twice would show up now
    assert await counts(rt, slug) == (replies, 0, replies)
    followups = [m for m in smtpd.messages if b"X-Dpabot-Kind: followup" in m.raw]
    assert len(followups) == replies


async def test_dovecot_killed_during_idle(runtime_factory, smtpd, dovecot, tmp_path, monkeypatch):
    user = dovecot.new_user()
    tenant = imap_tenant(smtpd, dovecot, user, tmp_path, monkeypatch)
    rt = await runtime_factory([tenant])
    invitation = await invite(rt, tenant.slug, smtpd)
    stop = asyncio.Event()
    service_task = asyncio.create_task(run(rt, stop, listeners=True, workers=2))
    try:
        await asyncio.sleep(1)
        for _ in range(2):
            await dovecot.append(customer_reply(invitation, PARTIAL, INVITED), user)
        await settle(rt, tenant.slug, smtpd, 2)
        await asyncio.to_thread(dovecot.restart)
        for _ in range(2):
            await dovecot.append(customer_reply(invitation, PARTIAL, INVITED), user)
        await settle(rt, tenant.slug, smtpd, 4)
    finally:
        stop.set()
        await asyncio.wait_for(service_task, 15)
    assert all("$DpabotStored" in f for f in (await dovecot.flags(user)).values())


async def test_connection_cut_silently(runtime_factory, smtpd, dovecot, tmp_path, monkeypatch):
    user = dovecot.new_user()
    proxy = Proxy(dovecot.host, dovecot.port)
    await proxy.start()
    tenant = imap_tenant(smtpd, dovecot, user, tmp_path, monkeypatch, port=proxy.port)
    rt = await runtime_factory([tenant])
    invitation = await invite(rt, tenant.slug, smtpd)
    stop = asyncio.Event()
    service_task = asyncio.create_task(run(rt, stop, listeners=True, workers=2))
    try:
        await asyncio.sleep(1)
        await dovecot.append(customer_reply(invitation, PARTIAL, INVITED), user)
        await settle(rt, tenant.slug, smtpd, 1)
        proxy.freeze()  # the relay stops relaying; no side sees a close
        for _ in range(2):
            await dovecot.append(customer_reply(invitation, PARTIAL, INVITED), user)
        await settle(rt, tenant.slug, smtpd, 3)
    finally:
        stop.set()
        await asyncio.wait_for(service_task, 15)
        await proxy.stop()


async def test_dpabot_restarted_between_store_and_processing(
    runtime_factory, smtpd, dovecot, tmp_path, monkeypatch
):
    user = dovecot.new_user()
    tenant = imap_tenant(smtpd, dovecot, user, tmp_path, monkeypatch)
    rt = await runtime_factory([tenant])
    invitation = await invite(rt, tenant.slug, smtpd)
    # The listener alone: mail is stored, its job queued and the mail flagged, no worker runs.
    stop = asyncio.Event()
    listener = asyncio.create_task(listen(rt, tenant.slug, stop))
    for _ in range(3):
        await dovecot.append(customer_reply(invitation, PARTIAL, INVITED), user)
    deadline = time.monotonic() + 15
    while (await counts(rt, tenant.slug))[0] < 3:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(listener, 10)
    assert await counts(rt, tenant.slug) == (3, 3, 0)
    # dpabot stops; a new process (a new runtime) picks the queued jobs up.
    await runtime_factory.close(rt)
    rt2 = await runtime_factory([tenant])
    stop2 = asyncio.Event()
    service_task = asyncio.create_task(run(rt2, stop2, listeners=True, workers=2))
    try:
        await settle(rt2, tenant.slug, smtpd, 3)
    finally:
        stop2.set()
        await asyncio.wait_for(service_task, 15)


async def test_uidvalidity_change_resyncs_without_processing_twice(
    runtime_factory, smtpd, dovecot, tmp_path, monkeypatch
):
    user = dovecot.new_user()
    tenant = imap_tenant(smtpd, dovecot, user, tmp_path, monkeypatch)
    rt = await runtime_factory([tenant])
    invitation = await invite(rt, tenant.slug, smtpd)
    stop = asyncio.Event()
    service_task = asyncio.create_task(run(rt, stop, listeners=True, workers=2))
    try:
        await asyncio.sleep(1)
        for _ in range(2):
            await dovecot.append(customer_reply(invitation, PARTIAL, INVITED), user)
        await settle(rt, tenant.slug, smtpd, 2)
        async with scoped(rt) as s:
            (old,) = set(
                (
                    await s.scalars(
                        select(Message.uidvalidity).where(
                            Message.tenant_id == rt.tenant_ids[tenant.slug],
                            Message.direction == "in",
                        )
                    )
                ).all()
            )
        # The server loses its index (restore from backup, migration): new UIDVALIDITY, and
        # our keyword is gone, so every message looks new again.
        await asyncio.to_thread(dovecot.stop)
        maildir = dovecot.root / "mail" / user
        for p in maildir.iterdir():
            if p.name.startswith("dovecot"):
                p.unlink() if p.is_file() else shutil.rmtree(p)
        for p in (maildir / "cur").iterdir():
            p.rename(p.with_name(p.name.split(":")[0] + ":2,"))
        await asyncio.sleep(1.1)  # UIDVALIDITY is a timestamp in seconds
        await asyncio.to_thread(dovecot.start)
        await dovecot.append(customer_reply(invitation, PARTIAL, INVITED), user)
        await settle(rt, tenant.slug, smtpd, 3)
        deadline = time.monotonic() + 10
        while not all("$DpabotStored" in f for f in (await dovecot.flags(user)).values()):
            assert time.monotonic() < deadline, "the resync did not flag the old mail"
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.wait_for(service_task, 15)
    async with scoped(rt) as s:
        validities = set(
            (
                await s.scalars(
                    select(Message.uidvalidity).where(
                        Message.tenant_id == rt.tenant_ids[tenant.slug], Message.direction == "in"
                    )
                )
            ).all()
        )
    assert old in validities and len(validities) == 2
