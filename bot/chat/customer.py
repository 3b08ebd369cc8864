"""Customers on Telegram: bind a chat to a contract with a mailed code, then answer, change,
accept and sign there, through the same reading, workflow and signing as by mail.

No function here knows python-telegram-bot: handlers/customer turns an update into an
``Incoming`` and sends back the ``Reply`` list. The conversation's state is the binding row
(``status``, ``step``) and the contract itself, so a restart loses nothing, and answers given by
mail meanwhile are simply not asked again.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
import hmac
import json
import math
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from bot.chat import limits as chat_limits
from bot.contracts.negotiation import missing_fields
from bot.core.runtime import Runtime
from bot.domain.data import annex_fields, label
from bot.domain.notices import notice
from bot.domain.workflow import OPEN_STATES, Effect, State
from bot.jobs import cpu
from bot.jobs.queue import defer
from bot.mail.inbound import Applied, _settle, apply_reading
from bot.outbox.mailer import compose, flatten
from bot.outbox.queue import mail_context, queue_mail
from bot.transports.telegram import Buttons
from handlers.reader.chat_reading import read_chat, said_anything
from handlers.reader.mime import parse_mail
from handlers.reader.model import Interpretation
from handlers.reader.signed_pdf import signed_attachment
from storage import audit
from storage.blobs import sha256_hex
from storage.models import ChatBinding, ChatOutbox, Contract, ContractVersion, Customer, Message
from storage.notify import notify_staff
from storage.repositories import TenantRepo
from templates import load_manifest
from templates.chat import render_customer

CODE_MINUTES = 10
MAX_TRIES = 5  # wrong codes per Telegram account; per contract: chat_limits.CONTRACT_MAX_TRIES
TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CODE = re.compile(r"^\s*(\d{6})\s*$")


@dataclass
class Reply:
    """One message for the customer: text, optional inline buttons, optional PDF."""

    text: str
    buttons: Buttons | None = None
    document: tuple[str, bytes] | None = None


@dataclass
class Incoming:
    """One Telegram update as the customer flow needs it, and keeps as evidence."""

    tenants: dict[int, str]  # id → slug of the tenants this bot (token) serves
    user_id: int
    chat_id: int
    message_id: int
    update_id: int
    lang: str  # the Telegram app's language: for texts before we know the customer
    update: dict[str, Any] = field(default_factory=dict)
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def evidence(self, email_: str | None = None) -> bytes:
        """The update with who, where and when, as stored (the acceptance's evidence)."""
        body = {
            "channel": "telegram",
            "telegram_user_id": self.user_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "update_id": self.update_id,
            "received_at": self.at.isoformat(),
            "bound_email": email_,
            "update": self.update,
        }
        return json.dumps(body, sort_keys=True, ensure_ascii=False).encode()


def _hash(code: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(16)
    return f"{salt}${hashlib.sha256((salt + code).encode()).hexdigest()}"


def _code_ok(stored: str | None, code: str) -> bool:
    if not stored or "$" not in stored:
        return False
    return hmac.compare_digest(stored, _hash(code, stored.partition("$")[0]))


def _masked(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


async def binding_of(s: Any, tenants: dict[int, str], user_id: int) -> ChatBinding | None:
    """The user's latest binding with a contract of one of this bot's tenants, not locked: a
    writer locks the contract row first and the binding after (see ``_bound``)."""
    return await s.scalar(
        select(ChatBinding)
        .where(
            ChatBinding.tenant_id.in_(list(tenants)),
            ChatBinding.telegram_user_id == user_id,
        )
        .order_by(ChatBinding.updated_at.desc(), ChatBinding.id.desc())
        .limit(1)
    )


async def is_customer(rt: Runtime, tenants: dict[int, str], user_id: int) -> bool:
    async with rt.db.transaction(tenants=tenants) as s:
        return await binding_of(s, tenants, user_id) is not None


async def _record_all(s: Any, inc: Incoming, action: str, detail: dict[str, Any]) -> None:
    """An event no contract can be told from: in the log of each tenant of this bot."""
    for tid in inc.tenants:
        await audit.record(
            s, tid, f"telegram:{inc.user_id}", action, f"telegram:{inc.user_id}", detail
        )


@dataclass
class _Ctx:
    """A bound (or binding) customer's contract, loaded in one transaction."""

    s: Any
    rt: Runtime
    inc: Incoming
    slug: str
    repo: TenantRepo
    contract: Contract
    customer: Customer
    binding: ChatBinding

    @property
    def lang(self) -> str:
        return self.customer.language

    def t(self, name: str, **ctx: Any) -> str:
        return render_customer(name, self.lang, **ctx)

    async def apply(
        self,
        version: ContractVersion,
        row: Message,
        reading: Interpretation,
        *,
        accepts_final: Callable[[], Awaitable[bool]],
        reason: str,
    ) -> Applied:
        """apply_reading (what a mailed reply does) to this contract, for a chat message."""
        return await apply_reading(
            self.s,
            self.repo,
            self.slug,
            self.contract,
            self.customer,
            version,
            row,
            reading,
            accepts_final=accepts_final,
            reason=reason,
        )

    async def record(self, action: str, **detail: Any) -> None:
        await audit.record(
            self.s,
            self.repo.tenant_id,
            f"telegram:{self.inc.user_id}",
            action,
            f"contract:{self.contract.id}",
            {"chat_id": self.inc.chat_id, **detail},
        )


async def _ctx(s: Any, rt: Runtime, inc: Incoming, b: ChatBinding) -> _Ctx:
    slug = inc.tenants[b.tenant_id]
    repo = TenantRepo(s, b.tenant_id)
    contract = await repo.contract(b.contract_id, for_update=True)
    customer = await repo.customer(contract.customer_id)
    return _Ctx(s, rt, inc, slug, repo, contract, customer, b)


# --- binding ---------------------------------------------------------------------------------


async def start(rt: Runtime, inc: Incoming, payload: str) -> list[Reply]:
    """``/start <payload>``: mail a code to the invited address (nothing is shown before).

    Not when the contract's link is closed (too many wrong codes in all), not while this
    account's code is still valid (the same code stays valid: no second mail), and not beyond
    the contract's code mails an hour (chat_limits)."""
    async with rt.db.transaction(tenants=inc.tenants) as s:
        contract = None
        if TOKEN.match(payload):
            # The contract row locked first, in every path: two accounts racing on one contract
            # take turns, so neither limit can be overrun between counting and mailing.
            contract = await s.scalar(
                select(Contract)
                .where(Contract.chat_token == payload, Contract.tenant_id.in_(list(inc.tenants)))
                .with_for_update()
            )
        if contract is None:
            await _record_all(s, inc, "chat.customer_unknown_link", {"chat_id": inc.chat_id})
            return [Reply(render_customer("unknown_link", inc.lang))]
        repo = TenantRepo(s, contract.tenant_id)
        customer = await repo.customer(contract.customer_id)
        rows = (
            await s.scalars(
                select(ChatBinding).where(
                    ChatBinding.tenant_id == contract.tenant_id,
                    ChatBinding.contract_id == contract.id,
                )
            )
        ).all()
        closed = await chat_limits.link_closed(repo, contract.id)
        mine = next((b for b in rows if b.telegram_user_id == inc.user_id), None)
        if mine is None:
            mine = ChatBinding(
                tenant_id=contract.tenant_id,
                contract_id=contract.id,
                telegram_user_id=inc.user_id,
                chat_id=inc.chat_id,
                # A new account on a closed link is kept locked: its later messages get the
                # same plain answer, and the row records who tried.
                status="locked" if closed else "pending",
                tries=0,
                step="code",
            )
            s.add(mine)
            await s.flush()
        c = await _ctx(s, rt, inc, mine)
        if State(contract.state) not in OPEN_STATES:
            await c.record("chat.customer_expired_link", state=contract.state)
            return [Reply(c.t("expired_link"))]
        other = next(
            (b for b in rows if b.status == "bound" and b.telegram_user_id != inc.user_id), None
        )
        if other is not None:
            return await _taken(c)
        if closed and mine.status == "pending":
            mine.status, mine.code_hash, mine.code_expires_at = "locked", None, None
        if mine.status == "locked":
            if closed:
                return await _link_closed(c)
            return [Reply(c.t("locked"))]
        mine.chat_id = inc.chat_id
        mine.updated_at = inc.at
        if mine.status == "bound":
            return [Reply(c.t("welcome_back")), *await _next(c)]
        email_ = _masked(customer.email)
        if mine.code_hash and mine.code_expires_at and inc.at < mine.code_expires_at:
            # /start again while the code is valid: the same code still works, so another
            # mail would only fill the customer's inbox (and use up the hourly limit).
            left = math.ceil((mine.code_expires_at - inc.at).total_seconds() / 60)
            await c.record("chat.code_not_resent", telegram_user_id=inc.user_id)
            return [Reply(c.t("code_still_valid", email=email_, minutes=left))]
        window = await chat_limits.code_mails(repo, contract.id)
        if window.full:
            await chat_limits.refuse_code_mail(
                repo, c.slug, contract, customer, inc.user_id, window
            )
            text = c.t(
                "code_limit",
                email=email_,
                limit=chat_limits.CODE_MAILS_PER_HOUR,
                minutes=window.retry_minutes,
            )
            return [Reply(text)]
        code = f"{secrets.randbelow(1_000_000):06d}"
        mine.code_hash = _hash(code)
        mine.code_expires_at = inc.at + dt.timedelta(minutes=CODE_MINUTES)
        tenant = rt.tenant(c.slug)
        version = await repo.version(contract)
        msg = compose(
            tenant,
            kind="chat_code",
            lang=customer.language,
            to=customer.email,
            token=contract.reply_token,
            context=mail_context(
                tenant, customer, contract, version.fields, code=code, minutes=CODE_MINUTES
            ),
        )
        await queue_mail(s, c.slug, repo, contract, msg, "chat_code")
        await c.record("chat.code_sent", telegram_user_id=inc.user_id)
        return [Reply(c.t("code_sent", email=email_, minutes=CODE_MINUTES))]


async def _link_closed(c: _Ctx) -> list[Reply]:
    """The contract's link is closed: no code, one plain sentence, recorded (staff were told
    once, when it closed)."""
    await c.record("chat.customer_refused", reason="link_closed", telegram_user_id=c.inc.user_id)
    return [Reply(c.t("link_closed", tenant_name=_tn(c)))]


async def _taken(c: _Ctx) -> list[Reply]:
    await c.record("chat.customer_refused", reason="bound_to_another_user")
    await notify_staff(
        c.s,
        c.repo.tenant_id,
        "chat_refused",
        f"Someone else (Telegram user {c.inc.user_id}) opened the chat link of contract "
        f"{c.slug}-{c.contract.id} ({c.customer.name}), already bound to another Telegram "
        "user; they were refused and saw nothing.",
        f"contract:{c.contract.id}",
    )
    return [Reply(c.t("taken"))]


async def _enter_code(c: _Ctx, text: str) -> list[Reply]:
    b = c.binding
    match = CODE.match(text)
    if match is None:
        return [Reply(c.t("type_code"))]
    if b.code_expires_at is None or c.inc.at > b.code_expires_at:
        await c.record("chat.code_expired")
        return [Reply(c.t("code_expired"))]
    taken = await c.s.scalar(
        select(ChatBinding.id).where(
            ChatBinding.contract_id == c.contract.id,
            ChatBinding.status == "bound",
            ChatBinding.id != b.id,
        )
    )
    if taken is not None:
        return await _taken(c)
    if not _code_ok(b.code_hash, match[1]):
        b.tries += 1
        total = await chat_limits.wrong_codes(c.repo, c.contract.id)
        if total >= chat_limits.CONTRACT_MAX_TRIES:
            # Locks every account still binding; staff hear of it once, in place of the
            # per-account notice this last guess would also have caused.
            await chat_limits.close_link(c.repo, c.slug, c.contract, c.customer, c.inc.user_id)
            await c.record("chat.locked", tries=b.tries, telegram_user_id=c.inc.user_id)
            return [Reply(c.t("link_closed", tenant_name=_tn(c)))]
        if b.tries >= MAX_TRIES:
            b.status, b.code_hash = "locked", None
            await c.record("chat.locked", tries=b.tries, telegram_user_id=c.inc.user_id)
            await notify_staff(
                c.s,
                c.repo.tenant_id,
                "chat_locked",
                f"A wrong chat code was entered {b.tries} times for contract "
                f"{c.slug}-{c.contract.id} ({c.customer.name}) by Telegram user "
                f"{c.inc.user_id}; that chat is locked. The customer can still answer by mail.",
                f"contract:{c.contract.id}",
            )
            return [Reply(c.t("locked"))]
        await c.record("chat.code_wrong", tries=b.tries)
        left = min(MAX_TRIES - b.tries, chat_limits.CONTRACT_MAX_TRIES - total)
        return [Reply(c.t("code_wrong", left=left))]
    b.status, b.code_hash, b.code_expires_at = "bound", None, None
    b.bound_at, b.chat_id = c.inc.at, c.inc.chat_id
    await c.record("chat.bound", telegram_user_id=c.inc.user_id, email=c.customer.email)
    tenant = c.rt.tenant(c.slug)
    return [
        Reply(c.t("bound", customer_name=c.customer.name, tenant_name=tenant.name)),
        *await _next(c),
    ]


# --- the conversation ------------------------------------------------------------------------


async def _final_prompt(c: _Ctx) -> list[Reply]:
    version = await c.repo.version(c.contract)
    if version.sent_pdf_path is None or version.sent_pdf_sha256 is None:
        return [Reply(c.t("final_coming"))]
    c.binding.step = "accept"
    tenant = c.rt.tenant(c.slug)
    pdf = c.rt.blobs.get(version.sent_pdf_path)
    signed = c.rt.signing[c.slug].order == "processor_first"
    return [final_reply(c.lang, tenant.name, c.contract, version.sent_pdf_sha256, pdf, signed)]


def final_reply(
    lang: str,
    tenant_name: str,
    contract: Contract,
    sha: str,
    pdf: bytes,
    processor_signed: bool = True,
) -> Reply:
    """The final PDF with the SHA-256 and the explicit acceptance button."""
    text = render_customer(
        "final", lang, tenant_name=tenant_name, sha256=sha, processor_signed=processor_signed
    )
    button = render_customer("button_accept", lang)
    return Reply(
        text,
        buttons=[[(button, f"accept:{contract.current_version}:{sha[:16]}")]],
        document=(f"verwerkersovereenkomst-{contract.id}-v{contract.current_version}.pdf", pdf),
    )


async def _next(c: _Ctx) -> list[Reply]:
    """The next question, or where the contract stands when there is none."""
    state = State(c.contract.state)
    if state not in OPEN_STATES:
        return [Reply(c.t("closed", state=c.t("state", state=state.value), tenant_name=_tn(c)))]
    if state == State.NEGOTIATING:
        c.binding.step = ""
        return [Reply(c.t("waiting_staff"))]
    if state == State.AWAITING_SIGNATURE:
        return await _final_prompt(c)
    version = await c.repo.version(c.contract)
    missing = missing_fields(c.contract.template_id, version.fields)
    if not missing:
        return [Reply(c.t("final_coming"))]
    return [_ask(c, missing[0])]


def _tn(c: _Ctx) -> str:
    return c.rt.tenant(c.slug).name


def _ask(c: _Ctx, fid: str) -> Reply:
    spec = load_manifest(c.contract.template_id).fields[fid]
    proposal = spec.default or ""
    text = c.t(
        "ask_field",
        number=spec.number,
        label=spec.label(c.lang),
        question=spec.question.get(c.lang, ""),
        proposal=proposal,
    )
    if not proposal:
        c.binding.step = f"typing:{fid}"
        return Reply(text)
    c.binding.step = f"field:{fid}"
    return Reply(
        text, buttons=[[(c.t("button_ok"), f"ok:{fid}"), (c.t("button_edit"), f"edit:{fid}")]]
    )


async def _store(c: _Ctx, kind: str, raw: bytes | None = None) -> Message:
    """The customer's chat message, kept like a mail (channel telegram): the history."""
    raw = raw if raw is not None else c.inc.evidence(c.customer.email)
    row = await c.repo.insert_message(
        contract_id=c.contract.id,
        direction="in",
        channel="telegram",
        kind=kind,
        message_id=f"<telegram-{c.inc.chat_id}-{c.inc.update_id}@dpabot.invalid>",
        from_addr=f"telegram:{c.inc.user_id}",
        subject="",
        raw=raw,
        raw_sha256=sha256_hex(raw),
        outcome="pending",
    )
    if row is None:  # the same update twice (a retried delivery): already handled
        raise _Duplicate()
    return row


class _Duplicate(Exception):
    pass


async def _apply(c: _Ctx, row: Message, reading: Interpretation, what: str) -> list[Reply]:
    """Apply a reading like inbound mail does, then answer in the chat instead of by mail."""
    version = await c.repo.version(c.contract)
    applied = await c.apply(
        version,
        row,
        reading,
        accepts_final=_false,  # acceptance in the chat is the button, never a word
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
        replies.extend(await _next(c))
    detail = json.dumps(
        {
            "event": applied.event.kind,
            "state": c.contract.state,
            "fields": sorted(applied.new_values),
            "invalid": sorted(reading.invalid),
            "channel": "telegram",
        }
    )
    await _settle(c.s, c.repo, row, "applied", detail, c.contract)
    return replies


async def _false() -> bool:
    return False


async def _bound(rt: Runtime, inc: Incoming, s: Any) -> _Ctx | list[Reply]:
    """The customer's context, or what to answer when they are not (or no longer) bound."""
    b = await binding_of(s, inc.tenants, inc.user_id)
    if b is None:
        return [Reply(render_customer("unknown_link", inc.lang))]
    c = await _ctx(s, rt, inc, b)
    # Contract row first, then the binding: the order start() and chat_limits.close_link keep
    # (it locks other accounts' bindings), so two accounts of one contract never deadlock.
    await s.refresh(b, with_for_update=True)
    if b.status == "locked":
        if await chat_limits.link_closed(c.repo, c.contract.id):
            return [Reply(c.t("link_closed", tenant_name=_tn(c)))]
        return [Reply(c.t("locked"))]
    return c


async def _closed(c: _Ctx, kind: str) -> list[Reply] | None:
    if State(c.contract.state) in OPEN_STATES:
        return None
    row = await _store(c, kind)
    await _settle(
        c.s, c.repo, row, "closed_contract", f"contract is {c.contract.state}", c.contract
    )
    return [Reply(c.t("closed", state=c.t("state", state=c.contract.state), tenant_name=_tn(c)))]


async def on_text(rt: Runtime, inc: Incoming, text: str) -> list[Reply]:
    """A customer's text message: the code while binding, else an answer or a request."""
    try:
        async with rt.db.transaction(tenants=inc.tenants) as s:
            got = await _bound(rt, inc, s)
            if isinstance(got, list):
                return got
            c = got
            if c.binding.status == "pending":
                return await _enter_code(c, text)
            closed = await _closed(c, "chat")
            if closed is not None:
                return closed
            row = await _store(c, "chat")
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
                await _settle(s, c.repo, row, "no_content", "nothing read", c.contract)
                return [Reply(c.t("not_understood")), *await _next(c)]
            return await _apply(c, row, reading, "answer")
    except _Duplicate:
        return []


async def on_button(rt: Runtime, inc: Incoming, data: str) -> list[Reply]:
    """An inline button: Klopt / Aanpassen under a question, or the acceptance."""
    action, _, rest = data.partition(":")
    try:
        async with rt.db.transaction(tenants=inc.tenants) as s:
            got = await _bound(rt, inc, s)
            if isinstance(got, list):
                return got
            c = got
            if c.binding.status != "bound":
                return [Reply(c.t("type_code"))]
            closed = await _closed(c, f"button-{action}")
            if closed is not None:
                return closed
            fields = {a.id for a in annex_fields(c.contract.template_id)}
            if action == "edit" and rest in fields:
                c.binding.step = f"typing:{rest}"
                return [
                    Reply(c.t("type_answer", label=label(c.contract.template_id, rest, c.lang)))
                ]
            if action == "ok" and rest in fields:
                row = await _store(c, "button-ok")
                version = await c.repo.version(c.contract)
                known = {k: v for k, v in version.fields.items() if v}
                reading = read_chat(
                    "klopt", c.contract.template_id, known, lang=c.lang, field_id=rest
                )
                return await _apply(c, row, reading, "confirmation")
            if action == "accept":
                return await _accept(c, rest)
            return [Reply(c.t("not_understood"))]
    except _Duplicate:
        return []


async def _accept(c: _Ctx, rest: str) -> list[Reply]:
    """The acceptance button: signs exactly like AKKOORD by mail, the update the evidence."""
    number, _, sha_prefix = rest.partition(":")
    version = await c.repo.version(c.contract)
    row = await _store(c, "acceptance")
    current = (
        c.contract.state == State.AWAITING_SIGNATURE
        and number == str(c.contract.current_version)
        and version.sent_pdf_sha256 is not None
        and version.sent_pdf_sha256.startswith(sha_prefix or "-")
    )
    if not current:
        await _settle(c.s, c.repo, row, "not_counted", "acceptance of an old version", c.contract)
        return [Reply(c.t("not_current"))]
    applied = await c.apply(
        version,
        row,
        Interpretation(accept=True, language=c.lang),
        accepts_final=_true,
        reason=f"telegram acceptance (message {row.id})",
    )
    c.binding.step = "signing"
    await c.record(
        "chat.accepted", version=c.contract.current_version, sha256=version.sent_pdf_sha256
    )
    await _settle(
        c.s, c.repo, row, "applied", json.dumps({"event": applied.event.kind}), c.contract
    )
    return [Reply(c.t("accepted"))]


async def _true() -> bool:
    return True


async def status(rt: Runtime, inc: Incoming) -> list[Reply]:
    """``/status``: what is filled in and what is missing, of the customer's own contract."""
    async with rt.db.transaction(tenants=inc.tenants) as s:
        got = await _bound(rt, inc, s)
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
        return [Reply(text), *await _next(c)]


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
            got = await _bound(rt, inc, s)
            if isinstance(got, list):
                return got
            c = got
            if c.binding.status != "bound":
                return [Reply(c.t("type_code"))]
            closed = await _closed(c, "document")
            if closed is not None:
                return closed
            limit = rt.tenant(c.slug).mail.max_attachment_bytes
            if size > limit:
                await c.record("chat.document_refused", reason="too_large", size=size)
                return [Reply(c.t("too_large", limit=f"{limit / 1024 / 1024:.0f}"))]
            if not (filename.lower().endswith(".pdf") or mime == "application/pdf"):
                await c.record("chat.document_refused", reason="not_pdf", filename=filename[:100])
                return [Reply(c.t("not_pdf"))]
        data = await fetch()
        async with rt.db.transaction(tenants=inc.tenants) as s:
            got = await _bound(rt, inc, s)
            assert not isinstance(got, list)
            c = got
            if len(data) > limit or not data.startswith(b"%PDF-"):
                await c.record("chat.document_refused", reason="not_pdf", size=len(data))
                return [Reply(c.t("not_pdf"))]
            raw = _as_mail(c, filename, data)
            row = await _store(c, "document", raw)
            return await _document(c, row, raw)
    except _Duplicate:
        return []


def _as_mail(c: _Ctx, filename: str, data: bytes) -> bytes:
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


async def _document(c: _Ctx, row: Message, raw: bytes) -> list[Reply]:
    signed = signed_attachment(parse_mail(raw))
    if signed is not None and c.contract.state == State.AWAITING_SIGNATURE:
        row.detail = json.dumps(
            {"version": c.contract.current_version, "returned_sha256": sha256_hex(signed)}
        )
        await defer(
            c.s, "check_returned", tenant=c.slug, contract_id=c.contract.id, message_row_id=row.id
        )
        await _settle(c.s, c.repo, row, "signature_check", row.detail, c.contract)
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
        await _settle(c.s, c.repo, row, "no_content", "no form answers", c.contract)
        return [Reply(c.t("not_understood")), *await _next(c)]
    return await _apply(c, row, reading, "form")


# --- messages the chat runner delivers -------------------------------------------------------


async def queue_for_chat(
    s: Any,
    tenant_id: int,
    contract: Contract,
    kind: str,
    text: str,
    *,
    document_path: str | None = None,
    filename: str | None = None,
    buttons: Buttons | None = None,
) -> ChatOutbox | None:
    """Queue a message to the contract's bound chat (none bound: nothing, returns None)."""
    b = await s.scalar(
        select(ChatBinding).where(
            ChatBinding.tenant_id == tenant_id,
            ChatBinding.contract_id == contract.id,
            ChatBinding.status == "bound",
        )
    )
    if b is None:
        return None
    if kind == "final":
        b.step = "accept"
    row = ChatOutbox(
        tenant_id=tenant_id,
        contract_id=contract.id,
        chat_id=b.chat_id,
        kind=kind,
        text=text,
        document_path=document_path,
        filename=filename,
        buttons=[[list(btn) for btn in r] for r in buttons] if buttons else None,
        attempts=0,
    )
    s.add(row)
    await s.flush()
    return row


async def queue_final(
    s: Any,
    tenant_id: int,
    tenant_name: str,
    customer: Customer,
    contract: Contract,
    path: str,
    sha: str,
    processor_signed: bool,
) -> None:
    """The final PDF (signed by the processor when it signs first) with the accept button."""
    reply = final_reply(customer.language, tenant_name, contract, sha, b"", processor_signed)
    assert reply.document is not None
    await queue_for_chat(
        s,
        tenant_id,
        contract,
        "final",
        reply.text,
        document_path=path,
        filename=reply.document[0],
        buttons=reply.buttons,
    )
