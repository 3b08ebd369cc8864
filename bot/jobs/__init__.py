"""Work done later or elsewhere: the job queue (defer in a transaction, work it, recover the
jobs of a killed worker) and the CPU pool (render, read, sign off the event loop). The task
table, which names the function each job runs, is bot.app.tasks."""

from bot.jobs.queue import RETRY, defer, retry_stalled_jobs, run_jobs_until_idle, watch_stalled

__all__ = ["RETRY", "defer", "retry_stalled_jobs", "run_jobs_until_idle", "watch_stalled"]
