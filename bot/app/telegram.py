"""The staff chat runner: one Telegram bot per distinct token, polling, plus notifications.

``dpabot serve`` runs it when any tenant has ``[telegram]``. Tenants sharing a token share one
bot; handlers/staff routes each update to its tenant (or refuses it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import BotCommand, Update
from telegram.error import InvalidToken, TelegramError

from bot.chat import delivery as chat_messages
from bot.chat import notify as staff_notices
from bot.core.runtime import Runtime
from bot.core.settings import TenantSettings
from bot.errors import ConfigError
from bot.transports.telegram import build_application
from handlers.customer import install as install_customers
from handlers.staff import REGISTRY, Directory, Registry, install
from storage import audit

log = logging.getLogger("dpabot.chat")
App = Any  # telegram.ext.Application with default context types


@dataclass
class Bot:
    """One token's Application and the tenants it serves."""

    app: App
    directory: Directory
    slugs: tuple[str, ...]


@dataclass
class StaffChat:
    """Start with ``await chat.start()``, stop with ``await chat.stop()`` (or ``run``)."""

    rt: Runtime
    registry: Registry = field(default_factory=lambda: REGISTRY)
    poll_timeout: int | None = None  # default: [telegram] poll_timeout in dpabot.toml
    notify_interval: float | None = None  # default: [telegram] notify_interval
    notify: bool = True  # False: no delivery loop (call bot.chat.notify.deliver_once)
    bots: dict[str, Bot] = field(default_factory=dict)  # token → bot
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def bot_for(self, slug: str) -> Bot:
        for bot in self.bots.values():
            if slug in bot.slugs:
                return bot
        raise ConfigError(f"Tenant '{slug}' has no [telegram] section.")

    @property
    def applications(self) -> list[App]:
        return [b.app for b in self.bots.values()]

    async def start(self) -> None:
        service = self.rt.settings.telegram
        if self.poll_timeout is not None:
            service = service.model_copy(update={"poll_timeout": self.poll_timeout})
        await sync_staff(self.rt)
        for token, tenants in group_by_token(list(self.rt.tenants.values())).items():
            directory = Directory(tenants)
            app = build_application(
                token, base_url=service.base_url, base_file_url=service.base_file_url
            )
            install(app, self.rt, directory, self.registry)
            install_customers(app, self.rt, directory)
            self.bots[token] = Bot(app, directory, directory.slugs)
        try:
            for bot in self.bots.values():
                await bot.app.initialize()
                await _set_commands(bot.app, self.registry)
                await bot.app.start()
                # As in production: long polling; only what the handlers read.
                await bot.app.updater.start_polling(
                    timeout=service.poll_timeout,
                    allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY],
                )
                log.info("staff chat bot @%s serves %s", bot.app.bot.username, ", ".join(bot.slugs))
        except BaseException:
            await self.stop()
            raise
        if self.notify:
            interval = self.notify_interval or service.notify_interval
            for name, deliver in (
                ("staff notifications", staff_notices.deliver_once),
                ("customer chat messages", chat_messages.deliver_once),
            ):
                self._tasks.append(
                    asyncio.create_task(_every(interval, deliver, self, name), name=name)
                )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for bot in self.bots.values():
            app = bot.app
            with contextlib.suppress(Exception):
                if app.updater is not None and app.updater.running:
                    await app.updater.stop()
            with contextlib.suppress(Exception):
                if app.running:
                    await app.stop()
            with contextlib.suppress(Exception):
                await app.shutdown()
        self.bots.clear()


async def run(rt: Runtime, stop: asyncio.Event) -> None:
    """The staff chat until ``stop`` is set (dpabot serve); Telegram unreachable at start is
    retried with backoff, a token Telegram refuses ends the chat (logged), not the service."""
    delay = 1.0
    while not stop.is_set():
        chat = StaffChat(rt)
        try:
            await chat.start()
        except InvalidToken:
            log.error("staff chat: Telegram refused a bot token; check [telegram] token.")
            return
        except (TelegramError, OSError) as exc:
            log.warning(
                "staff chat: Telegram cannot be reached (%s); retrying in %.0f s", exc, delay
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 300)
            continue
        try:
            await stop.wait()
        finally:
            await chat.stop()


def check(rt: Runtime) -> None:
    """Raise ConfigError for a token that is not one, or a chat two tenants of a bot map."""
    for tenants in group_by_token(list(rt.tenants.values())).values():
        Directory(tenants)


def group_by_token(tenants: list[TenantSettings]) -> dict[str, list[TenantSettings]]:
    """Tenants with [telegram], by their (resolved) bot token."""
    groups: dict[str, list[TenantSettings]] = {}
    for t in tenants:
        if t.telegram is None:
            continue
        where = f"{t.source or t.slug}: key 'telegram.token'"
        try:
            token = t.telegram.token.resolve("Telegram bot token")
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if ":" not in token or not token.split(":")[0].isdigit():
            # Never the token itself in the message: it is a secret.
            raise ConfigError(
                f"{where} does not hold a bot token (expected digits, ':' and a key, as "
                "@BotFather gives it)."
            )
        groups.setdefault(token, []).append(t)
    return groups


async def sync_staff(rt: Runtime) -> None:
    """Make the staff table match each tenant's [telegram] allowlist (audited when changed)."""
    tenants = rt.scopes()
    async with rt.db.transaction(tenants=[t.id for t in tenants]) as s:
        for tenant in tenants:
            repo = tenant.repo(s)
            telegram = tenant.settings.telegram
            wanted = {m.user_id: m for m in (telegram.staff if telegram else [])}
            rows = await repo.staff_by_user()
            gone = sorted(set(rows) - set(wanted))
            added, changed = [], []
            for uid, m in wanted.items():
                row = rows.get(uid)
                if row is None:
                    repo.add_staff(uid, m.name, m.role)
                    added.append(uid)
                elif (row.name, row.role) != (m.name, m.role):
                    row.name, row.role = m.name, m.role
                    changed.append(uid)
            if gone:
                await repo.remove_staff(gone)
            if added or changed or gone:
                await s.flush()
                await audit.record(
                    s,
                    tenant.id,
                    "dpabot",
                    "staff.synced",
                    "telegram",
                    {"added": sorted(added), "changed": sorted(changed), "removed": gone},
                )


async def _set_commands(app: App, registry: Registry) -> None:
    """The command menu Telegram shows (every command; each is checked when used)."""
    commands = [
        BotCommand(c.name, c.help[:256])
        for c in sorted(registry.commands.values(), key=lambda c: c.name)
        if not c.hidden
    ]
    try:
        await app.bot.set_my_commands(commands)
    except TelegramError as exc:  # a menu is a nicety: never a reason not to start
        log.warning("staff chat: the command menu could not be set (%s)", exc)


async def _every(
    interval: float, deliver: Callable[[StaffChat], Awaitable[int]], chat: StaffChat, what: str
) -> None:
    """Deliver, then wait ``interval`` seconds, until cancelled."""
    task = asyncio.current_task()
    while True:
        try:
            await deliver(chat)
        except asyncio.CancelledError:
            raise
        except Exception:  # a database hiccup must not end delivery for good
            log.exception("chat: delivering %s failed; trying again later", what)
        # A cancellation can be lost inside a library call that was finishing at that moment
        # (asyncio.wait_for in 3.11, connection pools): the task still counts it, so honour it
        # here, or stop() would wait for this loop for ever.
        if task is not None and task.cancelling():
            raise asyncio.CancelledError
        await asyncio.sleep(interval)
