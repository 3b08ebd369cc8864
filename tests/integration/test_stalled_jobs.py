"""Jobs left running by a worker that died are queued again; a live worker's are left alone."""

from __future__ import annotations

import asyncio

import psycopg

from bot.jobs.queue import retry_stalled_jobs
from tests.fixtures.runtime import make_tenant

QUEUE = "stalled-test"  # this test's jobs only: fetch_job takes nothing else


async def test_a_dead_workers_job_runs_again_and_a_live_workers_does_not(
    runtime_factory, database_url
):
    tenant = make_tenant()
    rt = await runtime_factory([tenant])
    manager = rt.app.job_manager
    task = rt.app.configure_task("dpabot:finalize", queue=QUEUE)
    first = await task.defer_async(tenant=tenant.slug, contract_id=1, version=1)
    second = await task.defer_async(tenant=tenant.slug, contract_id=2, version=1)
    dead, live = await manager.register_worker(), await manager.register_worker()
    try:
        assert (await manager.fetch_job([QUEUE], dead)).id == first  # type: ignore[union-attr]
        assert (await manager.fetch_job([QUEUE], live)).id == second  # type: ignore[union-attr]
        # The first worker was killed: its heartbeat stopped longer ago than stalled_after.
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(
                "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'"
                " WHERE id = %s",
                (dead,),
            )
        # Two workers look at once: the job is queued again once, not twice.
        assert sorted(await asyncio.gather(retry_stalled_jobs(rt), retry_stalled_jobs(rt))) == [
            0,
            1,
        ]
        jobs = {j.id: j for j in await manager.list_jobs_async(queue=QUEUE)}
        assert (jobs[first].status, jobs[first].attempts) == ("todo", 1)
        assert (jobs[second].status, jobs[second].attempts) == ("doing", 0)
        # Taken up again by a worker, it is not queued a second time.
        assert (await manager.fetch_job([QUEUE], live)).id == first  # type: ignore[union-attr]
        assert await retry_stalled_jobs(rt) == 0
    finally:
        for worker in (dead, live):
            await manager.unregister_worker(worker)
