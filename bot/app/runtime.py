"""The whole service opened: the core runtime with dpabot's task table, the CPU pool closed
after it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.app import tasks
from bot.core.runtime import Runtime, open_core
from bot.core.settings import ServiceSettings, TenantSettings
from bot.jobs import cpu


@asynccontextmanager
async def open_runtime(
    settings: ServiceSettings, tenants: list[TenantSettings]
) -> AsyncIterator[Runtime]:
    """Start everything the service needs (database, job queue with its tasks, dev PKI,
    mail transports, signers); stop it all on exit."""
    try:
        async with open_core(settings, tenants, tasks.register) as rt:
            yield rt
    finally:
        cpu.shutdown()
