"""Mail in: keep each raw reply, then read it, check it and act on it (or set it aside)."""

from __future__ import annotations

import email
import email.policy
import json
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bot.contracts import resend_final
from bot.contracts.apply import apply_reading
from bot.contracts.inbox import settle, shunt
from bot.core.runtime import Runtime
from bot.domain.notices import notice
from bot.domain.workflow import Effect, State
from bot.errors import is_transient
from bot.jobs import cpu
from bot.jobs.queue import defer
from bot.mail import steps, trust
from bot.mail.steps import Bounce, Received, Refused
from bot.outbox.queue import followup_mail, named_field, queue_mail
from handlers.reader.mime import ParsedMail, parse_mail
from handlers.reader.pipeline import reply_token
from handlers.reader.signed_pdf import signed_attachment
from storage.blobs import sha256_hex
from storage.models import Contract, Customer, Message
from storage.repositories import TenantRepo

log = logging.getLogger(__name__)
# What reads a reply in the process pool (a module-level function: the pool pickles it).
_reader = cpu.read_reply_sync


# The Message-IDs dpabot makes for rows of its own (a chat message, a mail that had none) are
# in this domain; a mail claiming one is stored by its hash instead, so nobody can take the key
# of a row dpabot is yet to write (a Message-ID is unique per tenant: the later row would be
# dropped as a duplicate).
OWN_DOMAIN = "@dpabot.invalid>"


def inbound_key(raw: bytes, message_id: str) -> str:
    """The Message-ID a received mail is stored under (unique per tenant)."""
    message_id = message_id.strip()[:900]
    if not message_id or OWN_DOMAIN[:-1] in message_id.lower():
        return f"<sha256-{sha256_hex(raw)}{OWN_DOMAIN}"
    return message_id


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
    # A mail without Message-ID (or with one of ours) still needs a unique, stable key.
    message_id = inbound_key(raw, message_id)
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
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
    except Exception as exc:  # the job's last wall: retried or shunted, never lost
        if is_transient(exc) and not final_attempt:
            log.warning("inbound message %s of %s will be retried: %s", message_row_id, slug, exc)
            raise
        log.exception("inbound message %s of %s shunted", message_row_id, slug)
        await shunt(rt, slug, message_row_id, exc)


async def _contract_for(repo: TenantRepo, mail: ParsedMail, address: str) -> Contract | None:
    token = reply_token(mail, address)
    if token is not None:
        return await repo.contract_by_token(token)
    # No plus address (some clients reply to From): follow In-Reply-To to our own mail.
    refs = [r for r in (mail.in_reply_to, *mail.references) if r]
    if refs:
        sent = await repo.sent_message(refs)
        if sent is not None and sent.contract_id is not None:
            return await repo.contract(sent.contract_id)
    return None


async def _process(rt: Runtime, s: AsyncSession, slug: str, message_row_id: int) -> None:
    """Phase one: the checks (bot.mail.steps), each refusal settled in one place. Phase two,
    for a mail that passed them all: one database step that applies it (_act)."""
    tenant = rt.tenant(slug)
    repo = rt.repo(s, slug)
    row = await repo.message(message_row_id)
    if row.outcome != "pending":
        return  # processed already (the job ran twice)
    received = Received(parse_mail(row.raw), row.raw, tenant)
    if received.oversize:
        # An oversize mail is routed and authenticated on its headers only, never parsed whole.
        received = Received(parse_mail(steps.head(row.raw)), row.raw, tenant)
    contract: Contract | None = None
    try:
        steps.screened(received)
        found = await _contract_for(repo, received.mail, tenant.mail.address)
        steps.routed(found is not None)
        assert found is not None
        contract = await repo.contract(found.id, for_update=True)
        customer = await repo.customer(contract.customer_id)
        steps.authenticated(received, customer.email, rt.dkim_dns)
        steps.contract_open(contract.state)
        steps.within_limits(received)
    except Bounce:
        await trust.bounce(s, repo, row, settle)
        return
    except Refused as refused:
        await _refused(rt, s, slug, repo, row, received.mail, refused, contract)
        return
    await _act(rt, s, slug, repo, row, received.mail, contract, customer)


async def _refused(
    rt: Runtime,
    s: AsyncSession,
    slug: str,
    repo: TenantRepo,
    row: Message,
    mail: ParsedMail,
    refused: Refused,
    contract: Contract | None,
) -> None:
    """A mail a step refused: kept with its outcome; the customer answered only when the step
    says so (they sent it, only it was unusable); the sender learns nothing otherwise."""
    if refused.notice and contract is not None:
        customer = await repo.customer(contract.customer_id)
        version = await repo.version(contract)
        msg = followup_mail(
            rt.tenant(slug),
            customer,
            contract,
            version.fields,
            mail,
            notice=notice(refused.notice, customer.language, limit=refused.limit),
        )
        await queue_mail(s, slug, repo, contract, msg, "followup")
    await settle(s, repo, row, refused.outcome, refused.reason, contract)


async def _act(
    rt: Runtime,
    s: AsyncSession,
    slug: str,
    repo: TenantRepo,
    row: Message,
    mail: ParsedMail,
    contract: Contract,
    customer: Customer,
) -> None:
    """Phase two: a signed PDF goes to its own check; anything else is read and applied, and
    the customer answered (a follow-up, or the current final version again)."""
    tenant = rt.tenant(slug)
    version = await repo.version(contract)
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
            await settle(s, repo, row, "signature_check", row.detail, contract)
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
            resent = await resend_final(rt, s, slug, repo, contract, customer, version, mail)
            outcome = "not_counted" if resent else "not_counted_limit"
        if effect in (Effect.SEND_FOLLOWUP, Effect.SEND_NOT_COUNTED):
            extra = {}
            if effect == Effect.SEND_NOT_COUNTED or signed_early:
                extra["notice"] = notice("not_counted", customer.language)
            elif event.open_changes:
                extra["notice"] = notice("change_received", customer.language)
            missing = [
                named_field(contract.template_id, customer.language, f) for f in reading.missing
            ]
            invalid = [
                {**named_field(contract.template_id, customer.language, f), "reason": r}
                for f, r in reading.invalid.items()
            ]
            # Said back: what was read (a misread is caught before signing), and what was read
            # too uncertainly to fill in, asked back.
            said = [
                {**named_field(contract.template_id, customer.language, f), "value": v}
                for f, v in sorted(new_values.items())
            ]
            asked = [
                {**named_field(contract.template_id, customer.language, f), "value": v}
                for f, v in reading.uncertain.items()
            ]
            msg = followup_mail(
                tenant,
                customer,
                contract,
                version.fields,
                mail,
                missing=missing,
                invalid=invalid,
                read=[r for r in said if r["number"] is not None],
                uncertain=asked,
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
    await settle(s, repo, row, outcome, detail, contract)
