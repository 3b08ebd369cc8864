"""StaffContext: who asked, for which tenant, in which chat, and how to answer them."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update
from telegram.ext import CallbackContext

from bot.core.runtime import Runtime
from bot.core.settings import StaffMember, TenantSettings
from bot.transports.telegram import MAX_CAPTION, MAX_MESSAGE, Buttons, keyboard, split_text
from handlers.staff._registry import Registry
from storage.repositories import TenantRepo
from templates.chat import render_chat

PAGE_CHARS = MAX_MESSAGE - 100  # room for the page footer
PAGE_PREFIX = "pg"  # callback data "pg:<key>:<page>"
_PAGES_KEY = "dpabot.pages"
_KEEP_PAGES = 500  # paginated answers kept in memory per bot for the page buttons


@dataclass
class Paged:
    slug: str
    chat_id: int
    pages: list[str]
    buttons: Buttons


@dataclass
class StaffContext:
    """One staff member's command (or button press, or upload) for one tenant."""

    rt: Runtime
    slug: str
    tenant_id: int
    member: StaffMember
    chat_id: int
    update: Update
    context: CallbackContext[Any, Any, Any, Any]
    registry: Registry
    name: str  # the command, the callback prefix or the upload handler's name
    args: list[str] = field(default_factory=list)  # words after the command
    data: str = ""  # a button's callback data after "<prefix>:"
    # The audit event the dispatcher records: action (default chat.<name>), subject, detail.
    action: str = ""
    subject: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return f"telegram:{self.member.user_id}"

    @property
    def role(self) -> str:
        return self.member.role

    @property
    def tenant(self) -> TenantSettings:
        return self.rt.tenant(self.slug)

    @property
    def text(self) -> str:
        """Everything after the command word (args joined back, spacing kept)."""
        message = self.update.effective_message
        raw = (message.text or message.caption or "") if message else ""
        return raw.partition(" ")[2].strip() if raw.startswith("/") else raw.strip()

    @asynccontextmanager
    async def repo(self) -> AsyncIterator[TenantRepo]:
        """The tenant's repository in a transaction: ids of other tenants are not found."""
        async with self.rt.db.transaction() as s:
            yield TenantRepo(s, self.tenant_id)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.rt.db.transaction(tenants=[self.tenant_id]) as s:
            yield s

    async def reply(self, text: str, buttons: Buttons | None = None) -> Message:
        """Answer in the chat; a text longer than one message is paged (◀ ▶ buttons)."""
        pages = split_text(text, PAGE_CHARS)
        if len(pages) == 1:
            return await self.context.bot.send_message(
                self.chat_id, pages[0], reply_markup=keyboard(buttons)
            )
        key = store_pages(self.context, Paged(self.slug, self.chat_id, pages, buttons or []))
        body, markup = page_view(key, self.context.bot_data[_PAGES_KEY][key], 0)
        return await self.context.bot.send_message(self.chat_id, body, reply_markup=markup)

    async def reply_template(
        self, template: str, /, buttons: Buttons | None = None, **ctx: Any
    ) -> Message:
        """Answer with templates/chat/<template>.txt.j2."""
        return await self.reply(render_chat(template, **ctx), buttons)

    async def edit(self, text: str, buttons: Buttons | None = None) -> None:
        """Replace the text of the message whose button was pressed (callbacks only)."""
        query = self.update.callback_query
        assert query is not None, "edit() answers a button press"
        await query.edit_message_text(split_text(text)[0], reply_markup=keyboard(buttons))

    async def send_document(self, data: bytes, filename: str, caption: str = "") -> Message:
        return await self.context.bot.send_document(
            self.chat_id, data, filename=filename, caption=caption[:MAX_CAPTION] or None
        )

    async def download(self) -> bytes:
        """The bytes of the uploaded document (upload handlers only)."""
        message = self.update.effective_message
        assert message is not None and message.document is not None
        file = await message.document.get_file()
        return bytes(await file.download_as_bytearray())


def store_pages(context: CallbackContext[Any, Any, Any, Any], paged: Paged) -> str:
    store: OrderedDict[str, Paged] = context.bot_data.setdefault(_PAGES_KEY, OrderedDict())
    key = secrets.token_hex(4)
    store[key] = paged
    while len(store) > _KEEP_PAGES:
        store.popitem(last=False)
    return key


def stored_pages(context: CallbackContext[Any, Any, Any, Any], key: str) -> Paged | None:
    store: OrderedDict[str, Paged] = context.bot_data.get(_PAGES_KEY, OrderedDict())
    return store.get(key)


def page_view(key: str, paged: Paged, n: int) -> tuple[str, Any]:
    """Page n's text with its footer, and the ◀ ▶ buttons (plus the answer's own)."""
    total = len(paged.pages)
    nav = []
    if n > 0:
        nav.append(("◀ previous", f"{PAGE_PREFIX}:{key}:{n - 1}"))
    if n < total - 1:
        nav.append(("next ▶", f"{PAGE_PREFIX}:{key}:{n + 1}"))
    body = f"{paged.pages[n]}\n\n(page {n + 1} of {total})"
    return body, keyboard([nav, *paged.buttons] if nav else paged.buttons)
