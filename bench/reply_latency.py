"""Reply → follow-up latency through the running service: a partial answer is APPENDed to
Dovecot, timed until dpabot's follow-up reaches aiosmtpd; next to Dovecot's own IDLE push delay
(a bare aioimaplib client timing APPEND → EXISTS), measured interleaved in the same run.
Last line: name=value pairs, headline first (p95_ms; goal ≤ 2000)."""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import logging
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aioimaplib  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import make_url  # noqa: E402

from bot import contracts  # noqa: E402
from bot.app.demo import customer_reply  # noqa: E402
from bot.app.runtime import open_runtime  # noqa: E402
from bot.app.serve import run  # noqa: E402
from bot.core.settings import ImapSettings, SecretRef, ServiceSettings, SmtpSettings  # noqa: E402
from bot.jobs import run_jobs_until_idle  # noqa: E402
from storage.database import libpq_url  # noqa: E402
from storage.embedded import start_embedded, stop_embedded  # noqa: E402
from tests.fixtures.dovecot import Dovecot  # noqa: E402
from tests.fixtures.runtime import make_tenant  # noqa: E402
from tests.fixtures.smtpd import Smtpd  # noqa: E402

INVITED = "karolien@mooi-schoonheid.example"


def _pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[int(q) - 1] if len(xs) > 1 else xs[0]


async def _idle_delay(dovecot: Dovecot, client: aioimaplib.IMAP4, user: str, i: int) -> float:
    """Seconds from an APPEND (other connection) to the EXISTS push on an idling client."""
    idle = await client.idle_start(timeout=30)
    await asyncio.sleep(0.05)  # let IDLE reach the server
    raw = f"From: a@b.example\r\nSubject: probe {i}\r\nMessage-ID: <p{i}@b>\r\n\r\nx\r\n".encode()
    start = time.monotonic()
    await dovecot.append(raw, user)
    while True:
        lines = await client.wait_server_push(10)
        if any(isinstance(x, bytes) and b"EXISTS" in x for x in lines):
            break
    elapsed = time.monotonic() - start
    client.idle_done()
    await asyncio.wait_for(idle, 10)
    return elapsed


async def _followups(smtpd: Smtpd) -> int:
    return sum(1 for m in smtpd.messages if b"X-Dpabot-Kind: followup" in m.raw)


async def bench(n: int, database_url: str, work: Path) -> None:
    dovecot = Dovecot(work / "dovecot")
    dovecot.start()
    smtpd_dir = work / "smtpd"
    smtpd_dir.mkdir()
    smtpd = Smtpd(smtpd_dir)
    smtpd.start()
    (work / "ca.pem").write_bytes(smtpd.cert_pem)
    os.environ["BENCH_IMAP_PW"], os.environ["BENCH_SMTP_PW"] = dovecot.password, smtpd.password
    user, probe_user = dovecot.new_user(), dovecot.new_user()
    tenant = make_tenant(
        transport="imap",
        smtp=SmtpSettings(
            host=smtpd.host,
            port=smtpd.port,
            username=smtpd.username,
            password=SecretRef(env="BENCH_SMTP_PW"),
            ca_file=work / "ca.pem",
        ),
        imap=ImapSettings(
            host=dovecot.host,
            port=dovecot.port,
            username=user,
            password=SecretRef(env="BENCH_IMAP_PW"),
            ssl=False,
        ),
    )
    settings = ServiceSettings(data_dir=work / "var", database_url=database_url)
    try:
        async with open_runtime(settings, [tenant]) as rt:
            cid = await contracts.add_customer(
                rt, tenant.slug, name="MOOI", representative="Karolien Piskor", email=INVITED
            )
            await contracts.invite(rt, tenant.slug, cid)
            await run_jobs_until_idle(rt)
            (sent,) = await smtpd.wait_for(1, timeout=30)
            invitation = email.message_from_bytes(sent.raw, policy=email.policy.default)
            probe = aioimaplib.IMAP4(dovecot.host, dovecot.port, timeout=10)
            await probe.wait_hello_from_server()
            await probe.login(probe_user, dovecot.password)
            await probe.select("INBOX")
            stop = asyncio.Event()
            task = asyncio.create_task(run(rt, stop, listeners=True, workers=2))
            await asyncio.sleep(1.0)
            latencies: list[float] = []
            idle: list[float] = []
            warm_up = 3  # the first replies start the reader's process pool
            for i in range(n + warm_up):
                idle.append(await _idle_delay(dovecot, probe, probe_user, i))
                before = await _followups(smtpd)
                start = time.monotonic()
                await dovecot.append(
                    customer_reply(invitation, "1. Klantenbeheer\n", INVITED), user
                )
                while await _followups(smtpd) <= before:
                    if time.monotonic() - start > 30:
                        raise SystemExit(f"reply {i}: no follow-up within 30 s")
                    await asyncio.sleep(0.002)
                latencies.append(time.monotonic() - start)
            stop.set()
            await asyncio.wait_for(task, 15)
            await probe.logout()
    finally:
        smtpd.stop()
        dovecot.stop()
    lat = [x * 1000 for x in latencies[warm_up:]]
    idl = [x * 1000 for x in idle[warm_up:]]
    p50, p95, i50, i95 = _pct(lat, 50), _pct(lat, 95), _pct(idl, 50), _pct(idl, 95)
    print(
        f"reply → follow-up over {n} replies: p50 {p50:.0f} ms, p95 {p95:.0f} ms,"
        f" max {max(lat):.0f} ms"
    )
    print(f"Dovecot IDLE push alone:          p50 {i50:.0f} ms, p95 {i95:.0f} ms")
    print(
        f"p95_ms={p95:.0f} p50_ms={p50:.0f} idle_p50_ms={i50:.0f} idle_p95_ms={i95:.0f} "
        f"overhead_p50_ms={p50 - i50:.0f} ratio_p50={p50 / i50:.2f} max_ms={max(lat):.0f} "
        f"goal_p95_ms=2000 n={n}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200, help="replies to time")
    parser.add_argument("--database-url", help="a PostgreSQL server (default: embedded)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("dpabot.staff").setLevel(logging.ERROR)
    logging.getLogger("aioimaplib.aioimaplib").setLevel(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="dpabot-bench-"))
    os.chmod(work, 0o755)  # Dovecot and the embedded server run as their own users
    base = args.database_url or os.environ.get("DPABOT_DATABASE_URL")
    if not base:
        base = start_embedded(work / "pg", database="postgres")
    admin = libpq_url(base)
    name = f"dpabot_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
        asyncio.run(bench(args.n, url, work))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        stop_embedded(work / "pg")  # an embedded server outlives its starter: leave none behind
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
