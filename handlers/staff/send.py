"""/send: invite one customer, every customer not invited yet, or an uploaded CSV/XLSX.

Nothing is sent before staff confirm: the bot first says how many would be invited (and who is
skipped or unknown), shows one invitation as the customer will get it (the mail's text and the
draft PDF), and asks with a button. An uploaded file is read whole first: any problem is
answered row by row and nothing is imported. The send itself runs beside the chat (a batch of
thousands takes minutes) and reports its progress in one message that is edited, then a
summary naming every failure.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

from telegram.error import TelegramError

from bot.contracts import bulk, customer_import
from bot.transports.telegram import keyboard
from handlers.reader.customer_file import CustomerRow, problems_text, read_customer_file
from handlers.staff._context import StaffContext
from handlers.staff._registry import STAFF, callback, command, upload

log = logging.getLogger("dpabot.chat")
_PENDING_KEY = "dpabot.sends"
_KEEP = 100  # confirmations waiting per bot; older ones expire
PROGRESS_EVERY = 2.0  # seconds between progress edits (Telegram limits edits like messages)
PREVIEW_TEXT = 1500  # characters of the mail shown in the preview


@dataclass
class PendingSend:
    slug: str
    chat_id: int
    user_id: int
    customers: list[int] | Literal["pending"]
    rows: tuple[CustomerRow, ...] = ()  # an uploaded file, imported only on confirmation
    count: int = 0


def _store(sc: StaffContext, pending: PendingSend) -> str:
    store: OrderedDict[str, PendingSend] = sc.context.bot_data.setdefault(
        _PENDING_KEY, OrderedDict()
    )
    key = secrets.token_hex(4)
    store[key] = pending
    while len(store) > _KEEP:
        store.popitem(last=False)
    return key


def _take(sc: StaffContext, key: str) -> PendingSend | None:
    store: OrderedDict[str, PendingSend] = sc.context.bot_data.get(_PENDING_KEY, OrderedDict())
    pending = store.get(key)
    # Only the person who asked, in the chat they asked in, for this tenant, may confirm.
    if pending is None or (pending.slug, pending.chat_id, pending.user_id) != (
        sc.slug,
        sc.chat_id,
        sc.member.user_id,
    ):
        return None
    del store[key]
    return pending


async def _ask(sc: StaffContext, pending: PendingSend, intro: list[str], preview: Any) -> None:
    """The preview (mail text + draft PDF) and the confirm / cancel buttons."""
    key = _store(sc, pending)
    text = preview.text if len(preview.text) <= PREVIEW_TEXT else preview.text[:PREVIEW_TEXT] + " …"
    await sc.send_document(
        preview.pdf, preview.pdf_filename, caption=f"Draft PDF for {preview.to} (preview)"
    )
    lines = [
        *intro,
        "",
        f"Preview of the mail to {preview.to}:",
        f"Subject: {preview.subject}",
        "",
        text.strip(),
    ]
    await sc.reply("\n".join(lines))
    n = pending.count
    await sc.reply(
        f"Send {n} invitation{'s' if n != 1 else ''} now?",
        buttons=[[(f"Send {n}", f"send:go:{key}"), ("Cancel", f"send:no:{key}")]],
    )


@command(
    "send",
    roles=STAFF,
    help="invite customers (asks to confirm); or upload a CSV/XLSX with caption /send",
    usage="ID…|all",
)
async def send(sc: StaffContext) -> None:
    args = [a.removeprefix("#") for a in sc.args]
    if not args or not (args == ["all"] or all(a.isdigit() and len(a) < 10 for a in args)):
        await sc.reply(
            "Usage: /send ID … (customer ids), /send all (everyone not invited yet), or upload "
            "a CSV or XLSX file of customers (columns name, email, representative)."
        )
        return
    customers: list[int] | Literal["pending"] = (
        bulk.PENDING if args == ["all"] else [int(a) for a in args]
    )
    sc.subject = "all" if customers == bulk.PENDING else ",".join(args)
    plan = await bulk.plan_invitations(sc.rt, sc.slug, customers, count_only=True)
    sc.detail.update({"would_invite": plan.count, "unknown": list(plan.unknown)})
    intro = [f"{plan.count} customer(s) would be invited."]
    if plan.already_invited:
        skipped = ", ".join(str(c) for c in plan.already_invited)
        intro.append(f"Skipped, invited already: {skipped}.")
    if plan.unknown:
        intro.append(f"Not customers of {sc.tenant.name}: {', '.join(map(str, plan.unknown))}.")
    if not plan.customers:
        await sc.reply("\n".join([*intro, "Nothing to send."]))
        return
    preview = await customer_import.preview(sc.rt, sc.slug, plan.customers[0].id)
    ids = [c.id for c in plan.customers]
    pending = PendingSend(sc.slug, sc.chat_id, sc.member.user_id, ids, count=len(ids))
    await _ask(sc, pending, intro, preview)


@upload("send", suffixes=[".csv", ".xlsx"], roles=STAFF, help="a customer file to invite")
async def send_file(sc: StaffContext) -> None:
    message = sc.update.effective_message
    name = message.document.file_name if message and message.document else ""
    sc.subject = name or "upload"
    parsed = read_customer_file(await sc.download(), name or "")
    if parsed.problems:
        sc.detail["problems"] = len(parsed.problems)
        await sc.reply(
            f"{name}: nothing was imported; fix these and upload the file again.\n\n"
            + problems_text(parsed.problems)
        )
        return
    if not parsed.rows:
        await sc.reply(f"{name}: the file has no customers.")
        return
    sc.detail["rows"] = len(parsed.rows)
    preview = await customer_import.preview_row(sc.rt, sc.slug, parsed.rows[0])
    pending = PendingSend(
        sc.slug, sc.chat_id, sc.member.user_id, [], rows=parsed.rows, count=len(parsed.rows)
    )
    intro = [
        f"{name}: {len(parsed.rows)} customer(s) read ({parsed.format}). They are imported and "
        "invited when you confirm; customers you have already are not changed, and anyone "
        "invited already is skipped."
    ]
    await _ask(sc, pending, intro, preview)


@callback("send", roles=STAFF)
async def confirm(sc: StaffContext) -> None:
    action, _, key = sc.data.partition(":")
    pending = _take(sc, key)
    sc.subject = key
    if pending is None:
        await sc.edit("This confirmation has expired (or is not yours); run /send again.")
        return
    if action != "go":
        sc.detail["cancelled"] = True
        await sc.edit("Cancelled: nothing was sent.")
        return
    await sc.edit(f"Sending {pending.count} invitation(s)…")
    # A batch runs for minutes: beside the chat, so other commands are still answered.
    sc.context.application.create_task(_run(sc, pending), update=sc.update)


async def _run(sc: StaffContext, pending: PendingSend) -> None:
    bot = sc.context.bot
    status = await bot.send_message(sc.chat_id, f"Invited 0 of {pending.count}…")
    last = 0.0

    async def progress(done: int, total: int, failures: int) -> None:
        nonlocal last
        if done < total and time.monotonic() - last < PROGRESS_EVERY:
            return
        last = time.monotonic()
        text = f"Invited {done} of {total}" + (f", {failures} failed" if failures else "") + "…"
        try:
            await bot.edit_message_text(text, chat_id=sc.chat_id, message_id=status.message_id)
        except TelegramError as exc:  # a lost progress edit must not stop the batch
            log.info("staff chat: progress edit failed: %s", exc)

    try:
        customers = pending.customers
        imported = ""
        if pending.rows:
            result = await customer_import.import_customers(sc.rt, sc.slug, pending.rows, sc.actor)
            customers = list(result.customer_ids)
            imported = (
                f"Imported {result.imported} new customer(s); {len(result.existing)} were "
                "customers already.\n"
            )
        summary = await bulk.send_invitations(
            sc.rt, sc.slug, customers, sc.actor, progress=progress
        )
    except Exception as exc:  # told in the chat; the error handler logs it
        await sc.reply(f"The send stopped: {exc}. Customers invited so far keep their mails.")
        raise
    await bot.edit_message_text(
        f"Invited {len(summary.invited)} of {pending.count}.",
        chat_id=sc.chat_id,
        message_id=status.message_id,
        reply_markup=keyboard(None),
    )
    lines = [
        f"{imported}Done: {len(summary.invited)} invited (mails queued), "
        f"{len(summary.skipped)} skipped (invited already), {len(summary.failed)} failed."
    ]
    if summary.failed:
        lines += ["", "Failed:", *(f"- {f}" for f in summary.failed)]
    await sc.reply("\n".join(lines))
