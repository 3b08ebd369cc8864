"""Mail in: keep each raw reply, then read it, check it and act on it (or set it aside)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bot.contracts import negotiation
from bot.contracts.final_mail import final_mail, fingerprint
from bot.core.runtime import Runtime
from bot.domain.data import annex_fields, label
from bot.domain.notices import notice
from bot.domain.workflow import Effect, Event, State, Transition, decide
from bot.jobs import cpu
from bot.jobs.queue import defer
from bot.mail import stranger, trust
from bot.outbox.mailer import compose
from bot.outbox.queue import mail_context, queue_mail
from handlers.reader.mime import ParsedMail, parse_mail
from handlers.reader.pipeline import reply_token, screen
from handlers.reader.signed_pdf import signed_attachment
from storage import audit
from storage.blobs import sha256_hex
from storage.models import Contract, ContractVersion, Message
from storage.notify import notify_grouped, notify_staff
from storage.repositories import TenantRepo
from templates import unprintable

log = logging.getLogger(__name__)
# What reads a reply in the process pool (a module-level function: the pool pickles it).
_reader = cpu.read_reply_sync


def _repo(rt: Runtime, session: Any, slug: str) -> TenantRepo:
    return TenantRepo(session, rt.tenant_ids[slug])


async def store_inbound(
    rt: Runtime, slug: str, mailbox: str, uidvalidity: int, uid: int | None, raw: bytes
) -> int | None:
    """Keep the raw mail and queue its processing in one transaction; None if already stored.

    ``uid`` None: a mail put in by hand (dpabot mail ingest), unique by its Message-ID."""
    digest = sha256_hex(raw)
    try:
        head = email.message_from_bytes(raw[:65536], policy=email.policy.compat32)
        message_id = (head.get("Message-ID") or "").strip()
        from_addr = str(head.get("From") or "")[:320]
        subject = str(head.get("Subject") or "")
    except Exception:  # keep even what cannot be parsed
        message_id, from_addr, subject = "", "", ""
    # A mail without Message-ID still needs a unique, stable key.
    message_id = message_id[:900] or f"<sha256-{digest}@dpabot.invalid>"
    async with rt.db.transaction() as s:
        repo = _repo(rt, s, slug)
        row = await repo.insert_message(
            direction="in",
            channel="email",
            kind="reply",
            message_id=message_id,
            mailbox=mailbox,
            uidvalidity=uidvalidity,
            uid=uid,
            from_addr=from_addr,
            subject=subject,
            raw=raw,
            raw_sha256=digest,
            outcome="pending",
        )
        if row is None:
            return None
        await defer(s, "process_inbound", tenant=slug, message_row_id=row.id)
        return row.id


async def process_inbound(
    rt: Runtime, slug: str, message_row_id: int, *, final_attempt: bool = True
) -> None:
    """Run one stored mail through the pipeline; a failure shunts it for staff, never drops it.

    A bad mail (parse error, timeout) is shunted at once; a database or transport outage is
    raised so the job is retried, and shunted only when ``final_attempt`` fails too.
    """
    try:
        async with rt.db.transaction() as s:
            await _process(rt, s, slug, message_row_id)
    except Exception as exc:
        if trust.transient(exc) and not final_attempt:
            log.warning("inbound message %s of %s will be retried: %s", message_row_id, slug, exc)
            raise
        log.exception("inbound message %s of %s shunted", message_row_id, slug)
        await shunt(rt, slug, message_row_id, exc)


async def shunt(rt: Runtime, slug: str, message_row_id: int, exc: Exception) -> None:
    """Set a stored mail aside with its error for staff; it stays kept, never dropped."""
    async with rt.db.transaction() as s:
        repo = _repo(rt, s, slug)
        row = await repo.message(message_row_id)
        row.outcome = "shunted"
        row.detail = f"{type(exc).__name__}: {exc}"[:2000]
        row.processed_at = dt.datetime.now(dt.UTC)
        await audit.record(
            s,
            repo.tenant_id,
            "dpabot",
            "message.shunted",
            f"message:{row.id}",
            {"error": type(exc).__name__},
        )
        await notify_staff(
            s,
            repo.tenant_id,
            "shunted",
            f"A mail could not be processed and was set aside with its error "
            f"({type(exc).__name__}); it is kept for you to look at.",
            f"message:{row.id}",
        )


def _followup(
    tenant: Any,
    customer: Any,
    contract: Contract,
    fields: dict[str, str],
    mail: ParsedMail,
    **context: Any,
) -> email.message.EmailMessage:
    """A follow-up to the customer, in their language, threaded under the mail it answers."""
    return compose(
        tenant,
        kind="followup",
        lang=customer.language,
        to=customer.email,
        token=contract.reply_token,
        in_reply_to=mail.message_id or None,
        context=mail_context(tenant, customer, contract, fields, **context),
    )


def _named(template_id: str, lang: str, field_id: str) -> dict[str, Any]:
    """A field as the follow-up mail names it: its question number and its label."""
    numbers = {a.id: a.number for a in annex_fields(template_id)}
    return {"number": numbers.get(field_id), "label": label(template_id, field_id, lang)}


_STAFF_MUST_KNOW = {
    "rejected_sender": "A reply came from an address that was not invited; it was kept, not used",
    "unknown_token": "A mail matched no open contract; it was kept, not used",
    "closed_contract": "A reply came for a contract that is already closed; it was kept",
    "bounce": "A mail to a customer bounced",
    "unauthenticated": "A reply failed the DKIM/DMARC check; it was kept, not used",
    "refused_too_large": "A reply was too large; it was kept and the sender was told",
    "refused_attachment": "A reply had a too large attachment; it was kept, the sender was told",
}


async def _settle(
    session: Any,
    repo: TenantRepo,
    row: Message,
    outcome: str,
    detail: str,
    contract: Contract | None = None,
) -> None:
    row.outcome = outcome
    row.detail = detail
    row.processed_at = dt.datetime.now(dt.UTC)
    if contract is not None:
        row.contract_id = contract.id
    await audit.record(
        session,
        repo.tenant_id,
        "dpabot",
        f"message.{outcome}",
        f"message:{row.id}",
        {"detail": detail[:200]},
    )
    log.info("tenant %s message %s: %s (%s)", repo.tenant_id, row.id, outcome, detail)
    if outcome not in _STAFF_MUST_KNOW:
        return
    # Kept, not applied: staff hear of it in plain words; the sender learns nothing.
    if stranger.grouped(outcome, contract is not None):
        # Anyone can send these: a flood is one notice per sender and hour, not one per mail.
        sender = stranger.sender_of(row.from_addr or "")
        first = f"{_STAFF_MUST_KNOW[outcome]} ({detail[:300]}; from {sender})."
        await notify_grouped(
            session,
            repo.tenant_id,
            outcome,
            sender,
            stranger.text_for(outcome, first),
            f"message:{row.id}",
        )
        return
    await notify_staff(
        session,
        repo.tenant_id,
        outcome,
        f"{_STAFF_MUST_KNOW[outcome]} ({detail[:300]}).",
        f"message:{row.id}",
    )


async def _contract_for(repo: TenantRepo, mail: ParsedMail, address: str) -> Contract | None:
    token = reply_token(mail, address)
    if token is not None:
        return await repo.contract_by_token(token)
    # No plus address (some clients reply to From): follow In-Reply-To to our own mail.
    refs = [r for r in (mail.in_reply_to, *mail.references) if r]
    if refs:
        sent = await repo.session.scalar(
            select(Message).where(
                Message.tenant_id == repo.tenant_id,
                Message.direction == "out",
                Message.message_id.in_(refs),
            )
        )
        if sent is not None and sent.contract_id is not None:
            return await repo.contract(sent.contract_id)
    return None


async def _process(rt: Runtime, s: Any, slug: str, message_row_id: int) -> None:
    tenant = rt.tenant(slug)
    repo = _repo(rt, s, slug)
    row = await repo.message(message_row_id)
    if row.outcome != "pending":
        return  # processed already (the job ran twice)
    oversize = len(row.raw) > tenant.mail.max_message_bytes
    # An oversize mail is routed and authenticated on its headers only, never parsed whole.
    mail = parse_mail(trust.head(row.raw) if oversize else row.raw)
    verdict = screen(mail, tenant.mail.address)
    if verdict.outcome == "bounce":
        await trust.bounce(s, repo, row, _settle)
        return
    if not verdict.ok:
        await _settle(s, repo, row, verdict.outcome, verdict.reason)
        return
    contract = await _contract_for(repo, mail, tenant.mail.address)
    if contract is None:
        await _settle(
            s,
            repo,
            row,
            "unknown_token",
            "no open contract of this tenant matches the reply address",
        )
        return
    contract = await repo.contract(contract.id, for_update=True)
    customer = await repo.customer(contract.customer_id)
    verdict = trust.check_sender(rt, tenant, mail, row.raw, customer.email)
    if not verdict.ok:
        # The sender learns nothing; staff see the mail in the shunt list.
        await _settle(s, repo, row, verdict.outcome, verdict.reason, contract)
        return
    if State(contract.state) not in {
        State.INVITED,
        State.COLLECTING,
        State.NEGOTIATING,
        State.AWAITING_SIGNATURE,
    }:
        await _settle(s, repo, row, "closed_contract", f"contract is {contract.state}", contract)
        return
    version = await repo.version(contract)
    refusal = trust.too_large(tenant.mail, row.raw, mail, oversize)
    if refusal is not None:
        outcome, kind, limit = refusal
        msg = _followup(
            tenant,
            customer,
            contract,
            version.fields,
            mail,
            notice=notice(kind, customer.language, limit=limit),
        )
        await queue_mail(s, slug, repo, contract, msg, "followup")
        await _settle(s, repo, row, outcome, f"{len(row.raw)} bytes", contract)
        return
    signed_pdf = signed_attachment(mail)
    signed_early = False
    if signed_pdf is not None:
        if contract.state == State.AWAITING_SIGNATURE:
            # The customer signed with their own tool: checked by a job of its own (it
            # renders pages for the comparison), against the version this reply answers.
            row.detail = json.dumps(
                {"version": contract.current_version, "returned_sha256": sha256_hex(signed_pdf)}
            )
            await defer(
                s, "check_returned", tenant=slug, contract_id=contract.id, message_row_id=row.id
            )
            await _settle(s, repo, row, "signature_check", row.detail, contract)
            return
        # Signed before there is a final version: the answers in the mail still count.
        signed_early = True
    known = {k: v for k, v in version.fields.items() if v}
    reading = await cpu.read_reply(
        row.raw,
        contract.template_id,
        known,
        timeout=tenant.mail.parse_timeout,
        fn=_reader,
        # Reasons for invalid answers come in the customer's language when their words are few.
        lang_hint=customer.language,
    )
    applied = await apply_reading(
        s,
        repo,
        slug,
        contract,
        customer,
        version,
        row,
        reading,
        accepts_final=lambda: trust.answers_final(repo, contract, mail),
        reason=f"reply {row.message_id}",
    )
    event, step, version, new_values = (
        applied.event,
        applied.step,
        applied.version,
        applied.new_values,
    )
    outcome = "applied"
    for effect in step.effects:
        if effect == Effect.RESEND_FINAL:
            resent = await _resend_final(rt, s, slug, repo, contract, customer, version, mail)
            outcome = "not_counted" if resent else "not_counted_limit"
        if effect in (Effect.SEND_FOLLOWUP, Effect.SEND_NOT_COUNTED):
            extra = {}
            if effect == Effect.SEND_NOT_COUNTED or signed_early:
                extra["notice"] = notice("not_counted", customer.language)
            elif event.open_changes:
                extra["notice"] = notice("change_received", customer.language)
            missing = [_named(contract.template_id, customer.language, f) for f in reading.missing]
            invalid = [
                {**_named(contract.template_id, customer.language, f), "reason": r}
                for f, r in reading.invalid.items()
            ]
            msg = _followup(
                tenant,
                customer,
                contract,
                version.fields,
                mail,
                missing=missing,
                invalid=invalid,
                **extra,
            )
            await queue_mail(s, slug, repo, contract, msg, "followup")
            outcome = "not_counted" if effect == Effect.SEND_NOT_COUNTED else "followup_sent"
    detail = json.dumps(
        {
            "event": event.kind,
            "state": contract.state,
            "fields": sorted(new_values),
            "missing": reading.missing,
            "invalid": sorted(reading.invalid),
            "note": step.note,
        }
    )
    await _settle(s, repo, row, outcome, detail, contract)


async def _resend_final(
    rt: Runtime,
    s: Any,
    slug: str,
    repo: TenantRepo,
    contract: Contract,
    customer: Any,
    version: ContractVersion,
    mail: ParsedMail,
) -> bool:
    """The current final version again, for an acceptance that did not name it: the customer
    sees which version and fingerprint an AKKOORD must answer; nothing was signed.

    At most RESEND_FINAL_PER_DAY final mails a day: forged acceptances must not become a flood
    of mail to the customer. Returns whether the mail was queued."""
    assert version.sent_pdf_path is not None and version.sent_pdf_sha256 is not None
    day_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    if await repo.mails_since(contract, "final", day_ago) >= RESEND_FINAL_PER_DAY:
        return False
    msg = final_mail(
        rt.tenant(slug),
        customer,
        contract,
        version.fields,
        version=version.number,
        pdf=rt.blobs.get(version.sent_pdf_path),
        sha256=version.sent_pdf_sha256,
        processor_signed=rt.signing[slug].order == "processor_first",
        in_reply_to=mail.message_id or None,
        notice=notice(
            "resend_final",
            customer.language,
            version=version.number,
            fingerprint=fingerprint(version.sent_pdf_sha256),
        ),
    )
    await queue_mail(s, slug, repo, contract, msg, "final", version=version.number)
    return True


# The final mail itself and up to three copies a day for acceptances that did not name it.
RESEND_FINAL_PER_DAY = 4


@dataclass
class Applied:
    """What one reading did to a contract; the channel it came by answers the customer."""

    event: Event
    step: Transition
    new_values: dict[str, str]
    version: ContractVersion


async def apply_reading(
    s: Any,
    repo: TenantRepo,
    slug: str,
    contract: Contract,
    customer: Any,
    version: ContractVersion,
    row: Message,
    reading: Any,
    *,
    accepts_final: Callable[[], Awaitable[bool]],
    reason: str,
) -> Applied:
    """Apply what was read from one customer message (a mail or a chat message), whatever the
    channel: unprintable values refused, change requests recorded, the workflow decided, a new
    version for new values, questions to staff, finalize or the customer's signature queued.
    Follow-ups (SEND_FOLLOWUP, SEND_NOT_COUNTED in ``step.effects``) are the caller's."""
    known = {k: v for k, v in version.fields.items() if v}
    for fid, value in list(reading.fields.items()):
        # A value the contract's font cannot print would fail the final render: ask again now.
        bad = unprintable(value)
        if bad:
            del reading.fields[fid]
            reading.invalid[fid] = notice("unprintable", reading.language, chars=" ".join(bad))
    new_values = {k: v for k, v in reading.fields.items() if known.get(k) != v}
    open_changes = 0
    if reading.change_requests and not reading.decline:
        open_changes = await negotiation.record_requests(
            s, repo, slug, contract, customer, row, reading.change_requests
        )
    elif contract.state == State.NEGOTIATING:
        open_changes = len(await repo.change_requests(contract, status="open"))
    if reading.decline:
        event = Event("declined")
    elif open_changes:
        event = Event(
            "answers",
            complete=not reading.missing and not reading.invalid,
            changed=bool(new_values),
            open_changes=True,
        )
    elif reading.accept and not new_values and not reading.invalid:
        event = Event("accepted", to_final=await accepts_final() and not reading.change_requests)
    else:
        event = Event(
            "answers",
            complete=not reading.missing and not reading.invalid,
            changed=bool(new_values),
        )
    step = decide(State(contract.state), event)
    if new_values:
        contract.current_version += 1
        version = await repo.add_version(
            contract,
            number=contract.current_version,
            fields={**version.fields, **new_values},
            amendments=list(version.amendments or []),
            diff={
                "fields": {
                    k: {"before": version.fields.get(k) or None, "after": v}
                    for k, v in sorted(new_values.items())
                },
                "amendments": [],
            },
            changed_by=f"customer:{customer.email}",
            reason=reason,
        )
    contract.state = step.state.value
    for question in reading.questions:
        # A question waits for a person: staff get the customer's own words.
        await notify_staff(
            s,
            repo.tenant_id,
            "question",
            f"Question from {customer.name} (contract {slug}-{contract.id}): “{question}”. "
            f"Answer them by mail at {customer.email}.",
            f"message:{row.id}",
        )
    for effect in step.effects:
        if effect == Effect.FINALIZE:
            await defer(
                s,
                "finalize",
                tenant=slug,
                contract_id=contract.id,
                version=contract.current_version,
            )
        elif effect == Effect.CUSTOMER_SIGN:
            await defer(
                s, "customer_sign", tenant=slug, contract_id=contract.id, message_row_id=row.id
            )
    return Applied(event, step, new_values, version)
