"""python-telegram-bot glue: access check, roles, one audit event per command, errors.

``install(app, rt, directory, registry)`` adds a handler per registered command, one for
inline buttons, one for uploads, a fallback, and the central error handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.chat.access import AMBIGUOUS, Access, Directory
from bot.chat.language import FALLBACK, member_language, refusal_language
from bot.core.runtime import Runtime
from handlers.staff._context import StaffContext
from handlers.staff._registry import Command, Handler, Registry
from storage import audit
from storage.notify import notify_staff
from storage.repositories import BotTenants
from templates.chat import notice_text, render_staff

log = logging.getLogger("dpabot.chat")
STATE_KEY = "dpabot"
Context = CallbackContext[Any, Any, Any, Any]


@dataclass
class BotState:
    """What the handlers of one bot (token) share."""

    rt: Runtime
    directory: Directory
    registry: Registry
    refused: set[int] = field(default_factory=set)  # users already told no (also in the DB)


def install(
    app: Application[Any, Any, Any, Any, Any, Any],
    rt: Runtime,
    directory: Directory,
    registry: Registry,
) -> None:
    app.bot_data[STATE_KEY] = BotState(rt, directory, registry)
    # New messages only: an edited "/remind 12" must not send a second reminder.
    new = filters.UpdateType.MESSAGE
    for cmd in registry.commands.values():
        app.add_handler(CommandHandler(cmd.name, _command(cmd), filters=new))
    app.add_handler(CallbackQueryHandler(_on_callback))
    app.add_handler(MessageHandler(new & filters.Document.ALL, _on_upload))
    app.add_handler(MessageHandler(new, _on_other))
    app.add_error_handler(on_error)


def _state(context: Context) -> BotState:
    state: BotState = context.bot_data[STATE_KEY]
    return state


async def _guard(update: Update, context: Context) -> tuple[BotState, Access] | None:
    """The tenant and staff member behind an update, or None after refusing it."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or user.is_bot:
        return None
    state = _state(context)
    access = state.directory.resolve(chat.id, chat.type, user.id)
    if access.allowed:
        return state, access
    await _refuse(state, context, chat.id, chat.type, user.id, access)
    return None


async def _refuse(
    state: BotState, context: Context, chat_id: int, chat_type: str, user_id: int, access: Access
) -> None:
    """One polite refusal per person (remembered in memory and in the audit log); a staff
    member listed by several tenants sharing the bot is told each time where to ask."""
    rt = state.rt
    tenant_ids = [rt.scope(s).id for s in access.concerned]
    subject = f"telegram:{user_id}"
    if access.refusal != AMBIGUOUS:
        if user_id in state.refused:
            return
        if tenant_ids:
            async with rt.db.transaction(tenants=tenant_ids) as s:
                # Refused by any tenant the update concerns: told once is enough.
                told = await BotTenants(s, tenant_ids).has_event("chat.refused", subject)
            if told:
                state.refused.add(user_id)
                return
        state.refused.add(user_id)
    log.info("staff chat: refused user %s in chat %s (%s)", user_id, chat_id, access.refusal)
    if tenant_ids:
        async with rt.db.transaction(tenants=tenant_ids) as s:
            for tid in tenant_ids:
                await audit.record(
                    s,
                    tid,
                    subject,
                    "chat.ambiguous" if access.refusal == AMBIGUOUS else "chat.refused",
                    subject,
                    {"reason": access.refusal, "chat_id": chat_id, "chat_type": chat_type},
                )
    # Nobody known asked: the language every tenant involved speaks, else English.
    involved = access.concerned or state.directory.slugs
    lang = refusal_language(rt.tenant(slug) for slug in involved)
    await context.bot.send_message(chat_id, render_staff("refused", lang, reason=access.refusal))


def _lang(state: BotState, access: Access) -> str:
    """The language of the staff member behind an allowed update."""
    assert access.slug is not None
    return member_language(state.rt.tenant(access.slug), access.member)


def _context(
    state: BotState, access: Access, update: Update, context: Context, name: str
) -> StaffContext:
    assert access.slug is not None and access.member is not None
    chat = update.effective_chat
    assert chat is not None
    return StaffContext(
        rt=state.rt,
        scope=state.rt.scope(access.slug),
        member=access.member,
        chat_id=chat.id,
        update=update,
        context=context,
        registry=state.registry,
        name=name,
        args=list(context.args or []),
    )


async def _run(sc: StaffContext, handler: Handler, *, audited: bool = True) -> None:
    """Run a handler; its audit event is written whatever happens (outcome ok or error)."""
    sc.action = sc.action or f"chat.{sc.name}"
    outcome = "error"
    try:
        await handler(sc)
        outcome = "ok"
    finally:
        if audited:
            await _record(sc, outcome)


async def _record(sc: StaffContext, outcome: str) -> None:
    detail = {"chat_id": sc.chat_id, "args": sc.args, **sc.detail, "outcome": outcome}
    if sc.data:
        detail["data"] = sc.data
    try:
        async with sc.rt.db.transaction(tenants=[sc.tenant_id]) as s:
            await audit.record(s, sc.tenant_id, sc.actor, sc.action, sc.subject[:200], detail)
    except Exception:
        # The handler's own error (if any) is the one to report; this one is logged.
        log.exception("staff chat: the audit event of /%s could not be written", sc.name)
        if outcome == "ok":
            raise


async def _refuse_role(sc: StaffContext, what: str) -> None:
    sc.action = "chat.refused_role"
    sc.detail = {"command": what, "role": sc.role}
    await _record(sc, "refused")


def _command(cmd: Command) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    async def handle(update: Update, context: Context) -> None:
        got = await _guard(update, context)
        if got is None:
            return
        sc = _context(*got, update, context, cmd.name)
        if sc.role not in cmd.roles:
            await sc.reply(sc.say("not_allowed", command=cmd.name))
            await _refuse_role(sc, cmd.name)
            return
        await _run(sc, cmd.handler)

    return handle


async def _on_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    got = await _guard(update, context)
    if got is None:
        await query.answer()
        return
    state, access = got
    prefix, _, rest = (query.data or "").partition(":")
    cb = state.registry.callbacks.get(prefix)
    if cb is None:
        await query.answer(render_staff("button_expired", _lang(state, access)))
        return
    sc = _context(state, access, update, context, prefix)
    sc.data = rest
    if sc.role not in cb.roles:
        await query.answer(sc.say("not_allowed", command=prefix), show_alert=True)
        await _refuse_role(sc, f"button {prefix}")
        return
    # Answered at once: the spinner stops; the handler answers by editing or replying.
    await query.answer()
    await _run(sc, cb.handler, audited=cb.audit)


async def _on_upload(update: Update, context: Context) -> None:
    got = await _guard(update, context)
    if got is None:
        return
    state, access = got
    message = update.effective_message
    assert message is not None and message.document is not None
    up = state.registry.upload_for(message.document.file_name or "")
    chat = update.effective_chat
    if up is None:
        if chat is not None and chat.type == "private":
            text = render_staff("unknown_upload", _lang(state, access))
            await context.bot.send_message(chat.id, text)
        return
    sc = _context(state, access, update, context, up.name)
    sc.args = (message.caption or "").split()[1:] if (message.caption or "").startswith("/") else []
    if sc.role not in up.roles:
        await sc.reply(sc.say("not_allowed", command=up.name))
        await _refuse_role(sc, up.name)
        return
    sc.detail["filename"] = message.document.file_name or ""
    await _run(sc, up.handler)


async def _on_other(update: Update, context: Context) -> None:
    """Anything no handler took: unknown commands, chatter (refused for unknown people)."""
    got = await _guard(update, context)
    if got is None:
        return
    lang = _lang(*got)
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    text = message.text or ""
    if text.startswith("/"):
        word = text.split()[0]
        # "/cmd@otherbot" in a group is for another bot.
        if "@" in word and word.partition("@")[2].lower() != (context.bot.username or "").lower():
            return
        await context.bot.send_message(
            chat.id, render_staff("unknown_command", lang, command=word.partition("@")[0])
        )
    elif chat.type == "private":
        await context.bot.send_message(chat.id, render_staff("hint", lang))


async def on_error(update: object, context: Context) -> None:
    """The one error handler: log it, tell the user plainly, tell the tenant's staff."""
    log.error("staff chat: handling an update failed", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    chat, user = update.effective_chat, update.effective_user
    state: BotState | None = context.bot_data.get(STATE_KEY)
    access = (
        state.directory.resolve(chat.id, chat.type, user.id)
        if state is not None and user is not None
        else Access()
    )
    lang = _lang(state, access) if state is not None and access.allowed else FALLBACK
    try:
        await context.bot.send_message(chat.id, render_staff("error", lang))
    except Exception:
        log.exception("staff chat: could not tell chat %s about the error", chat.id)
    if state is None or user is None or access.slug is None:
        return
    what = update.effective_message.text if update.effective_message else None
    command = (what or "").split()[0][:40] if (what or "").startswith("/") else "a button"
    params = {"command": command, "error": type(context.error).__name__}
    try:
        async with state.rt.db.transaction() as s:
            await notify_staff(
                s,
                state.rt.scope(access.slug).id,
                "chat_error",
                notice_text("chat_error", params),
                f"telegram:{user.id}",
                params=params,
            )
    except Exception:
        log.exception("staff chat: could not store the error notification")
