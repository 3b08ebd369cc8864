"""StaffContext: who asked, for which tenant, in which chat, and how to answer them."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update
from telegram.ext import CallbackContext

from bot.chat.language import member_language
from bot.core.runtime import Runtime
from bot.core.settings import StaffMember, TenantSettings
from bot.core.tenancy import TenantScope
from bot.transports.telegram import MAX_CAPTION, MAX_MESSAGE, Buttons, keyboard, split_text
from storage.repositories import TenantRepo
from templates.chat import render_staff

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
    lang: str = "en"  # the language of the person who asked: the ◀ ▶ labels and footer


@dataclass
class StaffContext:
    """One staff member's command (or button press, or upload) for one tenant."""

    rt: Runtime
    scope: TenantScope
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
    def lang(self) -> str:
        """The language this staff member is answered in (bot/chat/language.py)."""
        return member_language(self.tenant, self.member)

    def say(self, template: str, /, **ctx: Any) -> str:
        """templates/chat/staff/<lang>/<template>.txt.j2 in this member's language."""
        return render_staff(template, self.lang, **ctx)

    @property
    def slug(self) -> str:
        return self.scope.slug

    @property
    def tenant_id(self) -> int:
        return self.scope.id

    @property
    def tenant(self) -> TenantSettings:
        return self.scope.settings

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
            yield self.scope.repo(s)

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
        paged = Paged(self.slug, self.chat_id, pages, buttons or [], self.lang)
        key = store_pages(self.context, paged)
        body, markup = page_view(key, self.context.bot_data[_PAGES_KEY][key], 0)
        return await self.context.bot.send_message(self.chat_id, body, reply_markup=markup)

    async def reply_template(
        self, template: str, /, buttons: Buttons | None = None, **ctx: Any
    ) -> Message:
        """Answer with templates/chat/staff/<lang>/<template>.txt.j2 in the member's language."""
        return await self.reply(self.say(template, **ctx), buttons)

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
    lang = paged.lang
    nav = []
    if n > 0:
        nav.append((render_staff("page_previous", lang), f"{PAGE_PREFIX}:{key}:{n - 1}"))
    if n < total - 1:
        nav.append((render_staff("page_next", lang), f"{PAGE_PREFIX}:{key}:{n + 1}"))
    footer = render_staff("page_footer", lang, n=n + 1, total=total)
    body = f"{paged.pages[n]}\n\n{footer}"
    return body, keyboard([nav, *paged.buttons] if nav else paged.buttons)


Handler = Callable[["StaffContext"], Awaitable[None]]


ADMIN = frozenset({"admin"})


STAFF = frozenset({"admin", "staff"})  # everyone on the allowlist


ROLES = STAFF


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    roles: frozenset[str]
    help: str
    usage: str = ""  # e.g. "ID|all"; shown by /help
    hidden: bool = False  # answered but not listed (/start, which Telegram sends first)


@dataclass(frozen=True)
class Callback:
    prefix: str  # callback data is "<prefix>:<rest>"; the handler gets <rest> as sc.data
    handler: Handler
    roles: frozenset[str]
    audit: bool = True  # page turning re-shows what a command already audited: False


@dataclass(frozen=True)
class Upload:
    name: str
    handler: Handler
    roles: frozenset[str]
    suffixes: frozenset[str]  # ".csv", ".xlsx": which uploaded files it takes
    help: str


@dataclass
class Registry:
    """Everything the staff chat answers to; the runner takes one (default: ``REGISTRY``)."""

    commands: dict[str, Command] = field(default_factory=dict)
    callbacks: dict[str, Callback] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)

    def command(
        self,
        name: str,
        *,
        roles: Iterable[str] = STAFF,
        help: str,
        usage: str = "",
        hidden: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Register ``/name`` for the given roles, with one line of help."""
        allowed = _roles(roles)
        if not name.isascii() or not name.replace("_", "").isalnum() or name != name.lower():
            raise ValueError(f"Command name {name!r} must be lowercase letters, digits or '_'.")

        def register(handler: Handler) -> Handler:
            if name in self.commands:
                raise ValueError(f"The staff chat command /{name} is registered twice.")
            self.commands[name] = Command(name, handler, allowed, help, usage, hidden)
            return handler

        return register

    def callback(
        self, prefix: str, *, roles: Iterable[str] = STAFF, audit: bool = True
    ) -> Callable[[Handler], Handler]:
        """Register the handler of inline buttons whose callback data starts with ``prefix:``."""
        allowed = _roles(roles)
        if not prefix or ":" in prefix:
            raise ValueError(f"Callback prefix {prefix!r} must be non-empty and without ':'.")

        def register(handler: Handler) -> Handler:
            if prefix in self.callbacks:
                raise ValueError(f"The callback prefix {prefix!r} is registered twice.")
            self.callbacks[prefix] = Callback(prefix, handler, allowed, audit)
            return handler

        return register

    def upload(
        self, name: str, *, suffixes: Iterable[str], roles: Iterable[str] = STAFF, help: str
    ) -> Callable[[Handler], Handler]:
        """Register the handler of uploaded files with these suffixes (sc.download() reads it)."""
        allowed = _roles(roles)
        wanted = frozenset(s.lower() for s in suffixes)

        def register(handler: Handler) -> Handler:
            taken = [u.name for u in self.uploads if u.suffixes & wanted]
            if taken:
                raise ValueError(f"Uploads {sorted(wanted)} are already taken by {taken}.")
            self.uploads.append(Upload(name, handler, allowed, wanted, help))
            return handler

        return register

    def visible(self, role: str) -> list[Command]:
        """The commands this role may run, in name order."""
        return [c for _, c in sorted(self.commands.items()) if role in c.roles and not c.hidden]

    def upload_for(self, filename: str) -> Upload | None:
        lower = filename.lower()
        for up in self.uploads:
            if any(lower.endswith(s) for s in up.suffixes):
                return up
        return None

    def copy(self) -> Registry:
        """A registry with the same entries, to add to without touching this one (tests)."""
        return Registry(dict(self.commands), dict(self.callbacks), list(self.uploads))


def _roles(roles: Iterable[str]) -> frozenset[str]:
    allowed = frozenset(roles)
    if not allowed or not allowed <= ROLES:
        raise ValueError(f"Roles must be some of {sorted(ROLES)} (got {sorted(allowed)}).")
    return allowed
