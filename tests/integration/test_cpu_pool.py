"""The CPU pool's workers yield to the processes that move the work on."""

from __future__ import annotations

import os

from bot.jobs import cpu


async def test_pool_workers_run_at_a_lower_priority_than_the_service():
    # A bulk send's renders and mails wait while the event loop (sending, reading mail) and
    # PostgreSQL want the CPU; niceness is per process, so the service itself is unchanged.
    worker = await cpu.call(os.nice, 0)  # os.nice(0): the calling process's niceness
    assert worker == min(19, os.nice(0) + cpu.NICE)
    assert worker > os.nice(0) or os.nice(0) == 19
