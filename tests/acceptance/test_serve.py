"""`dpabot serve` as a process: its listener and workers carry a reply to an archived contract."""

from __future__ import annotations

import email
import email.policy
import mailbox
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bot import contracts
from bot.app.demo import DEMO_ANSWERS, customer_reply
from bot.app.runtime import open_runtime
from bot.core.settings import ServiceSettings, load_tenant
from bot.jobs import run_jobs_until_idle

ROOT = Path(__file__).resolve().parents[2]
TENANT = """
slug = "salon-{n}"
name = "iBeauty BVBA"
template = "ibeauty"
enterprise_number = "BE0662.785.756"
representative = "Michel Smekens"
[mail]
address = "dpa@salon-{n}.example"
transport = "maildir"
"""


def _mails(folder: Path, kind: str) -> list[email.message.EmailMessage]:
    box = mailbox.Maildir(folder, create=False)
    msgs = [
        email.message_from_bytes(box.get_bytes(k), policy=email.policy.default)
        for k in box.iterkeys()
    ]
    return [m for m in msgs if m["X-Dpabot-Kind"] == kind]  # type: ignore[misc]


def _wait(predicate, what: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            raise AssertionError(f"dpabot serve exited ({proc.returncode}) before {what}")
        time.sleep(0.2)
    raise AssertionError(f"dpabot serve did not get to {what} in {timeout} s")


async def test_serve_takes_replies_from_the_mailbox_to_the_archive(database_url, tmp_path):
    n = os.getpid() % 10000
    (tmp_path / "salon.toml").write_text(TENANT.format(n=n))
    data = tmp_path / "var"
    (tmp_path / "dpabot.toml").write_text(f'data_dir = "{data}"\ntenants = ["salon.toml"]\n')
    tenant = load_tenant(tmp_path / "salon.toml")
    settings = ServiceSettings(data_dir=data, database_url=database_url)
    async with open_runtime(settings, [tenant]) as rt:
        cid = await contracts.add_customer(
            rt,
            tenant.slug,
            name="MOOI Schoonheidsverzorging",
            representative="Karolien Piskor",
            email="karolien@mooi.example",
        )
        contract_id = await contracts.invite(rt, tenant.slug, cid)
        await run_jobs_until_idle(rt)
        outbox, inbox = rt.maildir(tenant.slug, "outbox"), rt.maildir(tenant.slug, "inbox")

    def state() -> str:
        with psycopg.connect(database_url) as conn:
            row = conn.execute("SELECT state FROM contracts WHERE id = %s", (contract_id,))
            return row.fetchone()[0]

    env = {**os.environ, "PYTHONPATH": str(ROOT), "DPABOT_DATABASE_URL": database_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.app.cli", "serve", "--config", str(tmp_path / "dpabot.toml")],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        (invitation,) = _mails(outbox, "invitation")
        mailbox.Maildir(inbox).add(
            customer_reply(invitation, DEMO_ANSWERS, "karolien@mooi.example")
        )
        _wait(lambda: _mails(outbox, "final"), "the final version", proc)
        (final,) = _mails(outbox, "final")
        mailbox.Maildir(inbox).add(customer_reply(final, "AKKOORD", "karolien@mooi.example"))
        _wait(lambda: state() == "completed", "a completed contract", proc)
        _wait(lambda: _mails(outbox, "completed"), "the completion mail", proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode(errors="replace")[-3000:]
    assert list((data / "archive" / tenant.slug).rglob("*.pdf"))
