"""Customers on Telegram: bind a chat to a contract with a mailed code, then answer, change,
accept and sign there, through the same reading, workflow and signing as by mail.

No function here knows python-telegram-bot: handlers/customer turns an update into an
``Incoming`` and sends back the ``Reply`` list. The conversation's state is the binding row
(``status``, ``step``) and the contract itself, so a restart loses nothing, and answers given by
mail meanwhile are simply not asked again.
"""

from __future__ import annotations

import json

from bot.chat.binding import enter_code
from bot.chat.context import (
    Ctx,
    Duplicate,
    always,
    bound_ctx,
    closed_reply,
    never,
    open_ctx,
    store_message,
)
from bot.chat.incoming import Incoming
from bot.chat.questions import next_step
from bot.contracts import settle
from bot.contracts.negotiation import missing_fields
from bot.core.runtime import Runtime
from bot.domain.data import annex_fields, label
from bot.domain.notices import notice
from bot.domain.workflow import Effect, State
from bot.outbox.chat import Reply
from handlers.reader.chat_reading import read_chat, said_anything
from handlers.reader.model import Interpretation
from storage.models import Message

# --- binding ---------------------------------------------------------------------------------


# --- the conversation ------------------------------------------------------------------------


async def _apply(c: Ctx, row: Message, reading: Interpretation, what: str) -> list[Reply]:
    """Apply a reading like inbound mail does, then answer in the chat instead of by mail."""
    version = await c.repo.version(c.contract)
    applied = await c.apply(
        version,
        row,
        reading,
        accepts_final=never,  # acceptance in the chat is the button, never a word
        reason=f"telegram {what} (message {row.id})",
    )
    replies: list[Reply] = []
    if reading.invalid:
        items = [
            {"label": label(c.contract.template_id, f, c.lang), "reason": r}
            for f, r in reading.invalid.items()
        ]
        replies.append(Reply(c.t("invalid", items=items)))
    if applied.event.kind == "declined":
        replies.append(Reply(c.t("declined")))
    elif applied.event.open_changes:
        replies.append(Reply(notice("change_received", c.lang)))
    elif {Effect.SEND_NOT_COUNTED, Effect.RESEND_FINAL} & set(applied.step.effects):
        replies.append(Reply(c.t("not_counted")))
    if reading.questions:
        replies.append(Reply(c.t("question_passed")))
    if reading.invalid and len(reading.invalid) == 1 and not applied.event.open_changes:
        (fid,) = reading.invalid
        c.binding.step = f"typing:{fid}"  # ask the same question again, typed
    elif Effect.FINALIZE in applied.step.effects:
        c.binding.step = ""
        replies.append(Reply(c.t("final_coming")))
    elif applied.event.kind != "declined":
        replies.extend(await next_step(c))
    detail = json.dumps(
        {
            "event": applied.event.kind,
            "state": c.contract.state,
            "fields": sorted(applied.new_values),
            "invalid": sorted(reading.invalid),
            "channel": "telegram",
        }
    )
    await settle(c.s, c.repo, row, "applied", detail, c.contract)
    return replies


async def on_text(rt: Runtime, inc: Incoming, text: str) -> list[Reply]:
    """A customer's text message: the code while binding, else an answer or a request."""
    try:
        async with rt.db.transaction(tenants=inc.tenants) as s:
            got = await bound_ctx(rt, inc, s)
            if isinstance(got, list):
                return got
            c = got
            if c.binding.status == "pending":
                return await enter_code(c, text)
            closed = await closed_reply(c, "chat")
            if closed is not None:
                return closed
            row = await store_message(c, "chat")
            version = await c.repo.version(c.contract)
            known = {k: v for k, v in version.fields.items() if v}
            kind, _, fid = c.binding.step.partition(":")
            if kind == "typing" and fid:
                reading = read_chat(text, c.contract.template_id, known, lang=c.lang, field_id=fid)
            else:
                reading = read_chat(text, c.contract.template_id, known, lang=c.lang)
                if not said_anything(reading) and kind == "field" and fid:
                    # Typed instead of pressing "Aanpassen": the answer to the question shown.
                    reading = read_chat(
                        text, c.contract.template_id, known, lang=c.lang, field_id=fid
                    )
            if not said_anything(reading):
                await settle(s, c.repo, row, "no_content", "nothing read", c.contract)
                return [Reply(c.t("not_understood")), *await next_step(c)]
            return await _apply(c, row, reading, "answer")
    except Duplicate:
        return []


async def on_button(rt: Runtime, inc: Incoming, data: str) -> list[Reply]:
    """An inline button: Klopt / Aanpassen under a question, or the acceptance."""
    action, _, rest = data.partition(":")
    try:
        async with rt.db.transaction(tenants=inc.tenants) as s:
            got = await open_ctx(rt, inc, s, f"button-{action}")
            if isinstance(got, list):
                return got
            c = got
            fields = {a.id for a in annex_fields(c.contract.template_id)}
            if action == "edit" and rest in fields:
                c.binding.step = f"typing:{rest}"
                return [
                    Reply(c.t("type_answer", label=label(c.contract.template_id, rest, c.lang)))
                ]
            if action == "ok" and rest in fields:
                row = await store_message(c, "button-ok")
                version = await c.repo.version(c.contract)
                known = {k: v for k, v in version.fields.items() if v}
                reading = read_chat(
                    "klopt", c.contract.template_id, known, lang=c.lang, field_id=rest
                )
                return await _apply(c, row, reading, "confirmation")
            if action == "accept":
                return await _accept(c, rest)
            return [Reply(c.t("not_understood"))]
    except Duplicate:
        return []


async def _accept(c: Ctx, rest: str) -> list[Reply]:
    """The acceptance button: signs exactly like AKKOORD by mail, the update the evidence."""
    number, _, sha_prefix = rest.partition(":")
    version = await c.repo.version(c.contract)
    row = await store_message(c, "acceptance")
    current = (
        c.contract.state == State.AWAITING_SIGNATURE
        and number == str(c.contract.current_version)
        and version.sent_pdf_sha256 is not None
        and version.sent_pdf_sha256.startswith(sha_prefix or "-")
    )
    if not current:
        await settle(c.s, c.repo, row, "not_counted", "acceptance of an old version", c.contract)
        return [Reply(c.t("not_current"))]
    applied = await c.apply(
        version,
        row,
        Interpretation(accept=True, language=c.lang),
        accepts_final=always,
        reason=f"telegram acceptance (message {row.id})",
    )
    c.binding.step = "signing"
    await c.record(
        "chat.accepted", version=c.contract.current_version, sha256=version.sent_pdf_sha256
    )
    await settle(c.s, c.repo, row, "applied", json.dumps({"event": applied.event.kind}), c.contract)
    return [Reply(c.t("accepted"))]


async def status(rt: Runtime, inc: Incoming) -> list[Reply]:
    """``/status``: what is filled in and what is missing, of the customer's own contract."""
    async with rt.db.transaction(tenants=inc.tenants) as s:
        got = await bound_ctx(rt, inc, s)
        if isinstance(got, list):
            return got
        c = got
        if c.binding.status != "bound":
            return [Reply(c.t("type_code"))]
        version = await c.repo.version(c.contract)
        missing = set(missing_fields(c.contract.template_id, version.fields))
        filled, open_ = [], []
        for a in annex_fields(c.contract.template_id):
            item = {
                "number": a.number,
                "label": label(c.contract.template_id, a.id, c.lang),
                "value": version.fields.get(a.id) or "",
            }
            if a.id in missing:
                open_.append(item)
            elif item["value"]:
                filled.append(item)
        text = c.t(
            "status",
            contract_ref=f"{c.slug}-{c.contract.id}",
            state=c.t("state", state=c.contract.state),
            filled=filled,
            missing=open_,
        )
        await c.record("chat.customer_status")
        return [Reply(text), *await next_step(c)]


# --- messages the chat runner delivers -------------------------------------------------------
