"""`dpabot worker` processes for bench/bulk_send.py: their configuration (the bench's tenant,
SMTP server and PostgreSQL), start, readiness, stop, and peak memory of any process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.contracts import bulk, customer_import
from bot.core.settings import TenantSettings
from handlers.reader.customer_file import MAX_ROWS, read_customer_file

ROOT = Path(__file__).resolve().parents[1]


def write_config(
    work: Path, tenant: TenantSettings, data_dir: Path, database_url: str, password_env: str
) -> Path:
    """dpabot.toml and the tenant file a worker needs to send the bench tenant's mails."""
    j = json.dumps  # a JSON string is a TOML basic string
    smtp = tenant.mail.smtp
    assert smtp is not None
    tenant_file = work / "bench-tenant.toml"
    secret = f"{{ env = {j(password_env)} }}"
    lines = [
        f"{k} = {j(getattr(tenant, k))}"
        for k in (
            "slug",
            "name",
            "template",
            "enterprise_number",
            "representative",
            "representative_function",
            "place",
        )
    ]
    lines += [
        "",
        "[mail]",
        f"address = {j(tenant.mail.address)}",
        f"display_name = {j(tenant.mail.display_name or tenant.name)}",
        'transport = "imap"',
        "",
        "[mail.smtp]",
        f"host = {j(smtp.host)}",
        f"port = {smtp.port}",
        f"username = {j(smtp.username)}",
        f"password = {secret}",
        f"ca_file = {j(str(smtp.ca_file))}",
        f"connections = {smtp.connections}",
        "",
        "[mail.imap]  # required by the transport; a worker runs no listener",
        'host = "127.0.0.1"',
        "port = 9",
        'username = "unused"',
        f"password = {secret}",
        "",
        "[signing]",
        'mode = "dev"',
    ]
    tenant_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = work / "dpabot.toml"
    config.write_text(
        f"data_dir = {j(str(data_dir))}\n"
        f"database_url = {j(database_url)}\n"
        f"tenants = [{j(str(tenant_file))}]\n",
        encoding="utf-8",
    )
    return config


def start(config: Path, count: int, concurrency: int) -> list[subprocess.Popen[bytes]]:
    """`dpabot worker` processes against the bench's database (their output to a log file)."""
    procs = []
    for i in range(count):
        log = (config.parent / f"worker-{i}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot.app.cli",
                    "worker",
                    "--config",
                    str(config),
                    "--concurrency",
                    str(concurrency),
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return procs


async def wait_ready(rt: Any, procs: list[subprocess.Popen[bytes]], timeout: float) -> None:  # noqa: ASYNC109
    """Until the job queue lists as many live workers as were started (each process has one)."""
    deadline = time.monotonic() + timeout
    while True:
        async with rt.db.transaction() as s:
            live = int(await s.scalar(text("SELECT count(*) FROM procrastinate_workers")) or 0)
        if live >= len(procs):
            return
        dead = [p.pid for p in procs if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            raise SystemExit(f"dpabot worker did not start (dead: {dead}); see worker-*.log")
        await asyncio.sleep(0.2)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM (procrastinate stops gracefully), then wait; SIGKILL after 30 s."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def peak_rss_mb(pid: int | None = None) -> float:
    """The process's peak resident memory so far (VmHWM), in MB; 0 when it is gone."""
    return _status_mb(pid, "VmHWM")


def rss_mb(pid: int | None = None) -> float:
    """The process's resident memory now (VmRSS), in MB; 0 when it is gone."""
    return _status_mb(pid, "VmRSS")


def _status_mb(pid: int | None, field: str) -> float:
    try:
        status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def exactly_once(received: Any, expected: int, settle_s: float = 1.0) -> bool:
    """After a moment for stragglers: the server got exactly the mails expected, none twice."""
    await asyncio.sleep(settle_s)
    return bool(received.value == expected)


def customers_csv(n: int, offset: int = 0) -> bytes:
    """A customer file of n made-up customers, numbered from offset (distinct addresses)."""
    langs = ("nl", "fr", "en")
    lines = ["naam;email;vertegenwoordiger;ondernemingsnummer;functie;taal"]
    lines += [
        f"Klant {i} BV;klant{i}@klanten.example;Vertegenwoordiger {i};BE0840.465.705;"
        f"Zaakvoerder;{langs[i % 3]}"
        for i in range(offset, offset + n)
    ]
    return ("\n".join(lines) + "\n").encode()


async def import_new(rt: Any, slug: str, n: int, offset: int = 0) -> list[int]:
    """n new customers imported as staff would: files of at most MAX_ROWS rows (the most one
    file may hold), each read and imported whole, one after the other. Their ids, in order."""
    ids: list[int] = []
    for start in range(offset, offset + n, MAX_ROWS):
        size = min(MAX_ROWS, offset + n - start)
        parsed = read_customer_file(customers_csv(size, start), "bench.csv")
        assert parsed.ok, parsed.problems[:3]
        result = await customer_import.import_customers(rt, slug, parsed.rows, "bench")
        assert result.imported == size, result
        ids += result.customer_ids
        del parsed, result  # one file's rows in memory at a time
    return ids


async def worker_run(
    rt: Any,
    tenant: TenantSettings,
    count: int,
    offset: int,
    n: int,
    received: Any,
    work: Path,
    wait_received: Callable[[Any, int, float], Awaitable[None]],
) -> tuple[float, float, bool]:
    """n new customers invited by this process while ``count`` `dpabot worker` processes send:
    invitations per second until the server has them all, the workers' peak RSS, each once."""
    slug = tenant.slug
    await import_new(rt, slug, n, offset)
    config = write_config(
        work, tenant, rt.settings.data_dir, rt.db.owner_url, "BENCH_SMTP_PASSWORD"
    )
    procs = start(config, count, bulk.SEND_CONCURRENCY)
    try:
        await wait_ready(rt, procs, 180)
        base = received.value
        t0 = time.perf_counter()
        summary = await bulk.send_invitations(rt, slug, bulk.PENDING, "bench")
        await wait_received(received, base + n, 1800)
        rate = n / (time.perf_counter() - t0)
        once = await exactly_once(received, base + n)
        rss = max(peak_rss_mb(p.pid) for p in procs)
    finally:
        stop(procs)
    assert len(summary.invited) == n and not summary.failed, summary.failed[:3]
    return rate, rss, once
