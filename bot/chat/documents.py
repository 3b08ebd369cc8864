"""PDFs a customer sends in the chat: a filled form, or the final version signed by themselves."""

from __future__ import annotations

import email.policy
import json
from collections.abc import Awaitable, Callable
from email.message import EmailMessage

from bot.chat.context import Ctx, Duplicate, bound_ctx, open_ctx, store_message
from bot.chat.conversation import _apply
from bot.chat.incoming import Incoming
from bot.chat.questions import next_step
from bot.contracts import settle
from bot.core.runtime import Runtime
from bot.domain.workflow import State
from bot.jobs import cpu
from bot.jobs.queue import defer
from bot.outbox.chat import Reply
from bot.outbox.mailer import flatten
from handlers.reader.chat_reading import said_anything
from handlers.reader.mime import parse_mail
from handlers.reader.signed_pdf import signed_attachment
from storage.blobs import sha256_hex
from storage.models import Message


async def on_document(
    rt: Runtime,
    inc: Incoming,
    *,
    filename: str,
    mime: str,
    size: int,
    fetch: Callable[[], Awaitable[bytes]],
) -> list[Reply]:
    """A PDF sent in the chat: a filled form (read like a mail's) or a PDF signed with the
    customer's own certificate (checked like a mailed one); anything else is refused."""
    try:
        async with rt.db.transaction(tenants=inc.tenants) as s:
            got = await open_ctx(rt, inc, s, "document")
            if isinstance(got, list):
                return got
            c = got
            limit = rt.tenant(c.slug).mail.max_attachment_bytes
            if size > limit:
                await c.record("chat.document_refused", reason="too_large", size=size)
                return [Reply(c.t("too_large", limit=f"{limit / 1024 / 1024:.0f}"))]
            if not (filename.lower().endswith(".pdf") or mime == "application/pdf"):
                await c.record("chat.document_refused", reason="not_pdf", filename=filename[:100])
                return [Reply(c.t("not_pdf"))]
        data = await fetch()
        async with rt.db.transaction(tenants=inc.tenants) as s:
            got = await bound_ctx(rt, inc, s)
            assert not isinstance(got, list)
            c = got
            if len(data) > limit or not data.startswith(b"%PDF-"):
                await c.record("chat.document_refused", reason="not_pdf", size=len(data))
                return [Reply(c.t("not_pdf"))]
            raw = _as_mail(c, filename, data)
            row = await store_message(c, "document", raw)
            return await _document(c, row, raw)
    except Duplicate:
        return []


def _as_mail(c: Ctx, filename: str, data: bytes) -> bytes:
    """A chat upload wrapped as a mail, so the mail steps read it (form, own signature)."""
    msg = EmailMessage(policy=email.policy.default)
    msg["From"] = c.customer.email
    msg["To"] = c.rt.tenant(c.slug).mail.address
    msg["Subject"] = "Telegram"
    msg["Message-ID"] = f"<telegram-{c.inc.chat_id}-{c.inc.update_id}@dpabot.invalid>"
    msg["X-Dpabot-Channel"] = "telegram"
    msg.set_content(c.inc.evidence(c.customer.email).decode())
    msg.add_attachment(
        data, maintype="application", subtype="pdf", filename=filename[:100] or "document.pdf"
    )
    return flatten(msg)


async def _document(c: Ctx, row: Message, raw: bytes) -> list[Reply]:
    signed = signed_attachment(parse_mail(raw))
    if signed is not None and c.contract.state == State.AWAITING_SIGNATURE:
        row.detail = json.dumps(
            {"version": c.contract.current_version, "returned_sha256": sha256_hex(signed)}
        )
        await defer(
            c.s, "check_returned", tenant=c.slug, contract_id=c.contract.id, message_row_id=row.id
        )
        await settle(c.s, c.repo, row, "signature_check", row.detail, c.contract)
        return [Reply(c.t("signature_check"))]
    version = await c.repo.version(c.contract)
    known = {k: v for k, v in version.fields.items() if v}
    tenant = c.rt.tenant(c.slug)
    reading = await cpu.read_reply(
        raw,
        c.contract.template_id,
        known,
        timeout=tenant.mail.parse_timeout,
        lang_hint=c.lang,
    )
    # The wrapper's text is our own evidence, not the customer's words: only the form counts.
    reading.change_requests, reading.questions = [], []
    reading.accept = reading.decline = False
    if not said_anything(reading):
        await settle(c.s, c.repo, row, "no_content", "no form answers", c.contract)
        return [Reply(c.t("not_understood")), *await next_step(c)]
    return await _apply(c, row, reading, "form")
