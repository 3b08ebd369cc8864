"""Applying what a customer said (by mail or in the chat) to their contract, in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.contracts import negotiation
from bot.domain.notices import notice
from bot.domain.workflow import Effect, Event, State, Transition, decide
from bot.jobs.queue import defer
from handlers.reader.model import Interpretation
from storage.models import Contract, ContractVersion, Customer, Message
from storage.notify import notify_staff
from storage.repositories import TenantRepo
from templates import unprintable
from templates.chat import notice_text


@dataclass
class Applied:
    """What one reading did to a contract; the channel it came by answers the customer."""

    event: Event
    step: Transition
    new_values: dict[str, str]
    version: ContractVersion


async def apply_reading(
    s: AsyncSession,
    repo: TenantRepo,
    slug: str,
    contract: Contract,
    customer: Customer,
    version: ContractVersion,
    row: Message,
    reading: Interpretation,
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
        params = {
            "customer": customer.name,
            "ref": f"{slug}-{contract.id}",
            "question": question,
            "email": customer.email,
        }
        await notify_staff(
            s,
            repo.tenant_id,
            "question",
            notice_text("question", params),
            f"message:{row.id}",
            params=params,
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
