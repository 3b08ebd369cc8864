"""Bulk invitations per second end to end: N imported customers invited the way `dpabot send
--all --yes` does it (draft PDF rendered in the CPU pool, contract + mail + job stored in one
transaction, the job queue worked while rendering goes on), timed until an SMTP server on
loopback (aiosmtpd in its own process, STARTTLS + AUTH, like a real relay) has received all N.

Next to the raw stages in the same run, each measured before and after the end-to-end run:
render = draft renders alone through the same CPU pool (bot.cpu.render, the pool kept busy);
smtp = aiosmtplib alone sending the same invitation mails as the transport does (stored bytes,
one connection with STARTTLS + AUTH per job of bulk.BATCH mails), as many jobs at once as the
send worker runs, --smtp-sample mails (1,500: several seconds; 300 sent in a 2-second burst
measured 117 and 175 per second in one run).
ratio = end-to-end per_s / the slowest stage's per_s (goal >= 0.8); total_s goal for 10,000:
<= 240. Uses DPABOT_DATABASE_URL when set, else an embedded PostgreSQL.
Last line: name=value pairs, headline first.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import secrets
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import aiosmtplib  # noqa: E402
import bulk_workers  # noqa: E402
from cpu_meter import CpuMeter  # noqa: E402

from bot import contracts  # noqa: E402
from bot.app.demo import DEMO_TENANT  # noqa: E402
from bot.app.runtime import open_runtime  # noqa: E402
from bot.contracts import bulk  # noqa: E402
from bot.core.settings import (  # noqa: E402
    SecretRef,
    ServiceSettings,
    SmtpSettings,
    TenantSettings,
)
from bot.domain.data import document_data  # noqa: E402
from bot.jobs import cpu  # noqa: E402
from bot.outbox.mailer import flatten  # noqa: E402
from storage.embedded import stop_embedded  # noqa: E402
from storage.models import Contract, Customer  # noqa: E402

SMTP_USER, SMTP_PASSWORD = "mailer@bench.example", "bench-secret"


# --- the SMTP server, in a process of its own -------------------------------------------------


def _smtp_server(directory: str, port: int, received: Any, ready: Any) -> None:
    """aiosmtpd with STARTTLS and AUTH that counts what it accepts (keeps nothing)."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", message=".*login_data is deprecated")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from tests.fixtures.smtpd import _self_signed

    cert_file, key_file, _ = _self_signed(Path(directory))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)

    class Counter:
        def authenticate(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
            ok = isinstance(auth_data, LoginPassword) and (
                auth_data.login,
                auth_data.password,
            ) == (SMTP_USER.encode(), SMTP_PASSWORD.encode())
            return AuthResult(success=ok, handled=False)

        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            raw = envelope.original_content or b""
            if b"application/pdf" in raw:  # an invitation carries its draft
                with received.get_lock():
                    received.value += 1
            return "250 Message accepted for delivery"

    handler = Counter()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=handler.authenticate,
        data_size_limit=50 * 1024 * 1024,
    )
    controller.start()
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the stages ---------------------------------------------------------------------------------


async def render_stage(tenant: TenantSettings, k: int, workers: int) -> float:
    """Draft renders per second through the CPU pool alone (distinct customers, pool kept busy)."""
    data = [
        document_data(
            tenant,
            {
                "customer_name": f"Render {i} BV",
                "customer_enterprise_number": "BE0840.465.705",
                "customer_representative": f"Vertegenwoordiger {i}",
                "customer_representative_function": "Zaakvoerder",
                "customer_email": f"render{i}@klanten.example",
            },
            version=1,
            draft=True,
        )
        for i in range(k)
    ]
    queue = list(range(k))

    async def worker() -> None:
        while queue:
            i = queue.pop()
            await cpu.render(tenant.template, data[i], draft=True)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return k / (time.perf_counter() - t0)


async def smtp_stage(
    rt: Any, slug: str, customer_id: int, port: int, ca: Path, k: int, concurrency: int
) -> float:
    """aiosmtplib alone, sending the way the transport does: the same invitation mails as bytes,
    a connection (STARTTLS + AUTH) per job of bulk.BATCH mails, ``concurrency`` jobs at once."""
    tenant = rt.tenant(slug)
    async with rt.db.transaction(tenants=[rt.tenant_ids[slug]]) as s:
        customer = await s.get(Customer, customer_id)
    fields, draft = await contracts.render_draft(tenant, customer)
    contract = Contract(
        id=0, customer_id=customer.id, template_id=tenant.template, state="draft", reply_token="x"
    )
    # One mail composed per connection open at once, each sent for a whole job: the server
    # and the client do the same work as for k distinct mails, and k copies in memory (45 MB
    # for 300) would count in the peak RSS reported for the send.
    msgs = [
        flatten(contracts.invitation_mail(tenant, customer, contract, fields, draft))
        for _ in range(min(k, concurrency))
    ]
    context = ssl.create_default_context(cafile=str(ca))
    jobs = [
        [msgs[(i // bulk.BATCH) % len(msgs)]] * min(bulk.BATCH, k - i)
        for i in range(0, k, bulk.BATCH)
    ]

    async def worker() -> None:
        while jobs:
            job = jobs.pop()
            async with aiosmtplib.SMTP(
                hostname="127.0.0.1",
                port=port,
                username=SMTP_USER,
                password=SMTP_PASSWORD,
                start_tls=True,
                tls_context=context,
                timeout=30,
            ) as smtp:
                for raw in job:
                    options = [] if raw.isascii() else ["BODY=8BITMIME"]
                    await smtp.sendmail(
                        "dpa@ibeauty.example", [customer.email], raw, mail_options=options
                    )

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return k / (time.perf_counter() - t0)


def _machine_cpu() -> tuple[int, int]:
    """(idle, total) jiffies of the whole machine since boot (/proc/stat's first line)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:8]]
    return fields[3], sum(fields)


async def _timeline(received: Any, base: int, t0: float) -> None:
    """Once a second during the end-to-end run: mails received so far, this process's CPU
    seconds in that second, how busy the whole machine was (where the time goes), and the
    resident memory of this process and of its largest pool worker."""
    cpu_before, (idle_before, total_before) = time.process_time(), _machine_cpu()
    while True:
        await asyncio.sleep(1.0)
        cpu_now, (idle_now, total_now) = time.process_time(), _machine_cpu()
        pool_rss = [bulk_workers.rss_mb(p) for p in cpu.pids()]
        busy = 1 - (idle_now - idle_before) / max(1, total_now - total_before)
        print(
            f"t={time.perf_counter() - t0:.1f}s received={received.value - base} "
            f"main_cpu={cpu_now - cpu_before:.2f} machine_busy={busy:.2f} "
            f"rss_mb={bulk_workers.rss_mb():.0f} "
            f"pool_rss_mb={max(pool_rss, default=0):.0f}",
            flush=True,
        )
        cpu_before, idle_before, total_before = cpu_now, idle_now, total_now


async def wait_received(received: Any, target: int, timeout: float) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while received.value < target:
        if time.monotonic() > deadline:
            raise SystemExit(f"the SMTP server got {received.value} of {target} mails in time")
        await asyncio.sleep(0.02)


async def run(
    n: int,
    sample: int,
    smtp_sample: int,
    profile: str | None,
    worker_counts: list[int],
    timeline: bool,
) -> None:
    ctx = multiprocessing.get_context("spawn")
    received = ctx.Value("l", 0)
    ready = ctx.Event()
    with tempfile.TemporaryDirectory(prefix="dpabot-bench-") as work:
        os.chmod(work, 0o755)  # the embedded server runs as its own system user when root
        port = _free_port()
        server = ctx.Process(target=_smtp_server, args=(work, port, received, ready), daemon=True)
        server.start()
        try:
            if not ready.wait(30):
                raise SystemExit("the SMTP server did not start")
            os.environ["BENCH_SMTP_PASSWORD"] = SMTP_PASSWORD
            # The demo's tenant, mailing over SMTP (no listener runs here), under a slug of its
            # own: DPABOT_DATABASE_URL may hold earlier runs' tenants.
            mail = DEMO_TENANT.mail.model_copy(
                update={
                    "transport": "imap",
                    "smtp": SmtpSettings(
                        host="127.0.0.1",
                        port=port,
                        username=SMTP_USER,
                        password=SecretRef(env="BENCH_SMTP_PASSWORD"),
                        ca_file=Path(work) / "cert.pem",
                        # As many connections as the raw stage below opens at once.
                        connections=bulk.SEND_CONCURRENCY,
                    ),
                }
            )
            tenant = DEMO_TENANT.model_copy(
                update={"slug": f"bench-{secrets.token_hex(3)}", "mail": mail}
            )
            settings = ServiceSettings(
                data_dir=Path(work) / "var", database_url=os.environ.get("DPABOT_DATABASE_URL")
            )
            async with open_runtime(settings, [tenant]) as rt:
                meter = CpuMeter(server.pid or 0, settings.data_dir)
                await _measure(
                    rt,
                    tenant,
                    n,
                    sample,
                    smtp_sample,
                    port,
                    Path(work) / "cert.pem",
                    received,
                    meter,
                    profile,
                    Path(work),
                    worker_counts,
                    timeline,
                )
        finally:
            server.kill()
            # The embedded server outlives its starter: stop it before its folder goes.
            stop_embedded(Path(work) / "var")


async def _measure(
    rt: Any,
    tenant: TenantSettings,
    n: int,
    sample: int,
    smtp_sample: int,
    port: int,
    ca: Path,
    received: Any,
    meter: CpuMeter,
    profile: str | None,
    work: Path,
    worker_counts: list[int],
    timeline: bool = False,
) -> None:
    slug = tenant.slug
    workers = cpu.workers()
    # Warm the pool (each worker loads Typst and the fonts once) outside every timing.
    await render_stage(tenant, 2 * workers, workers)

    t0 = time.perf_counter()
    first = (await bulk_workers.import_new(rt, slug, n))[0]
    import_s = time.perf_counter() - t0
    import_rss = bulk_workers.peak_rss_mb()

    k, ks = min(n, sample), min(n, smtp_sample)
    render_rates = [await render_stage(tenant, k, workers)]
    before = received.value
    smtp_rates = [await smtp_stage(rt, slug, first, port, ca, ks, bulk.SEND_CONCURRENCY)]
    await wait_received(received, before + ks, 60)

    base = received.value
    queued_at: list[float] = []

    async def progress(done: int, total: int, failures: int) -> None:
        if done == total:
            queued_at.append(time.perf_counter())

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    meter.start()
    t0 = time.perf_counter()
    sampler = asyncio.create_task(_timeline(received, base, t0)) if timeline else None
    summary, delivery = await bulk.send_now(rt, slug, bulk.PENDING, "bench", progress=progress)
    await wait_received(received, base + n, 600)
    total_s = time.perf_counter() - t0
    if sampler is not None:
        sampler.cancel()
    spent = meter.stop()
    if profiler is not None and profile:
        profiler.disable()
        profiler.dump_stats(profile)
    assert len(summary.invited) == n and not summary.failed, summary.failed[:3]
    once = await bulk_workers.exactly_once(received, base + n)
    pool_rss = [bulk_workers.peak_rss_mb(pid) for pid in cpu.pids()]
    peak_rss = max([bulk_workers.peak_rss_mb(), *pool_rss])

    render_rates.append(await render_stage(tenant, k, workers))
    before = received.value
    smtp_rates.append(await smtp_stage(rt, slug, first, port, ca, ks, bulk.SEND_CONCURRENCY))
    await wait_received(received, before + ks, 60)

    # Scale-out: the same send with the mails sent by 1, then 2 `dpabot worker` processes on
    # the same PostgreSQL (this process only renders and stores), each on n new customers.
    scale: dict[int, tuple[float, float, bool]] = {}
    for i, count in enumerate(worker_counts):
        scale[count] = await bulk_workers.worker_run(
            rt, tenant, count, (i + 1) * n, n, received, work, wait_received
        )

    per_s = n / total_s
    render_per_s = statistics.fmean(render_rates)
    smtp_per_s = statistics.fmean(smtp_rates)
    slowest = min(render_per_s, smtp_per_s)
    queued_s = (queued_at[0] - t0) if queued_at else total_s
    print(
        "CPU ms per invitation: "
        + ", ".join(f"{k} {v * 1000 / n:.1f}" for k, v in spent.items())
        + f" (wall {total_s * 1000 / n:.0f} ms, {os.cpu_count()} cores)"
    )
    print(f"render per_s before/after: {render_rates[0]:.1f} / {render_rates[1]:.1f}")
    print(f"smtp per_s before/after:   {smtp_rates[0]:.1f} / {smtp_rates[1]:.1f}")
    print(
        f"end to end: {n} invitations in {total_s:.1f} s (all queued after {queued_s:.1f} s, "
        f"last mail received {total_s - queued_s:.1f} s later); import {import_s:.1f} s"
    )
    print(
        f"peak RSS: this process {import_rss:.0f} MB after the import, "
        f"{bulk_workers.peak_rss_mb():.0f} MB after all; pool workers "
        + ", ".join(f"{r:.0f}" for r in pool_rss)
        + " MB"
    )
    for count, (rate, rss, ok) in scale.items():
        print(
            f"with {count} dpabot worker process(es): {rate:.1f} per s = {rate / smtp_per_s:.2f}"
            f" of raw SMTP; worker peak RSS {rss:.0f} MB; each mail once: {ok}"
        )
    scaled = "".join(
        f" per_s_w{c}={r:.1f} per_smtp_w{c}={r / smtp_per_s:.2f}" for c, (r, _, _) in scale.items()
    )
    once_all = once and all(ok for _, _, ok in scale.values())
    print(
        f"per_s={per_s:.1f} ratio={per_s / slowest:.2f} total_s={total_s:.1f} "
        f"render_per_s={render_per_s:.1f} smtp_per_s={smtp_per_s:.1f} "
        f"queued_s={queued_s:.1f} import_s={import_s:.1f} sent={delivery.sent} n={n} "
        f"workers={workers} per_smtp={per_s / smtp_per_s:.2f} peak_rss_mb={peak_rss:.0f}"
        f"{scaled} exactly_once={'yes' if once_all else 'no'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500, help="customers invited end to end")
    parser.add_argument(
        "--sample", type=int, default=300, help="renders per raw render-stage measurement"
    )
    parser.add_argument(
        "--smtp-sample",
        type=int,
        default=1500,
        help="mails per raw SMTP-stage measurement (several seconds: a short burst swings)",
    )
    parser.add_argument("--profile", help="write a cProfile of the main process's run here")
    parser.add_argument(
        "--workers",
        default="1,2",
        help="scale-out runs: `dpabot worker` process counts, comma-separated ('' for none)",
    )
    parser.add_argument(
        "--timeline",
        action="store_true",
        help="print mails received, this process's CPU and the machine's load once a second",
    )
    args = parser.parse_args()
    counts = [int(c) for c in args.workers.split(",") if c.strip()]
    asyncio.run(run(args.n, args.sample, args.smtp_sample, args.profile, counts, args.timeline))


if __name__ == "__main__":
    main()
