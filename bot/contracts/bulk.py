"""Customers in bulk: import a checked customer file, preview an invitation, invite many at once.

The CLI (`dpabot customers import`, `dpabot send`) and the staff chat's /send call these.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.contracts import invitations
from bot.core.runtime import Runtime
from bot.errors import DpabotError
from bot.jobs import cpu, run_jobs_until_idle
from bot.outbox import unsent
from storage import audit
from storage.errors import NotFound
from storage.models import Customer
from templates import TemplateError

log = logging.getLogger(__name__)

# send_invitations(customers=PENDING): every customer of the tenant not invited yet.
PENDING: Literal["pending"] = "pending"
# progress(done, total, failures), awaited after each customer.
Progress = Callable[[int, int, int], Awaitable[None]]


# --- import -----------------------------------------------------------------------------------


# --- preview ----------------------------------------------------------------------------------


# --- send -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    customer_id: int
    contract_id: int


@dataclass(frozen=True)
class SendFailure:
    """A customer not invited, and why (one sentence); the rest of the batch went on."""

    customer_id: int
    customer: str  # the customer's name, "" when the id is not one of the tenant's
    reason: str

    def __str__(self) -> str:
        who = f"customer {self.customer_id}" + (f" ({self.customer})" if self.customer else "")
        return f"{who}: {self.reason}"


@dataclass
class SendSummary:
    """The batch's outcome: invited (mail queued), skipped (had a contract), failed."""

    invited: list[Invitation] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # customer ids already invited
    failed: list[SendFailure] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.invited) + len(self.skipped) + len(self.failed)


def _concurrency() -> int:
    # Two renders per pool worker: the next is waiting while one's PDF comes back.
    return 2 * cpu.workers()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DpabotError | NotFound):
        return str(exc)

    if isinstance(exc, TemplateError):
        return str(exc)
    return f"unexpected error ({type(exc).__name__}: {exc})"


@dataclass(frozen=True)
class SendPlan:
    """Who a send would invite, who it would skip (a contract already) and the unknown ids."""

    customers: tuple[Customer, ...]  # named customers to invite (empty for PENDING)
    already_invited: tuple[int, ...] = ()
    unknown: tuple[int, ...] = ()  # not customers of this tenant
    pending: int | None = None  # PENDING: how many customers have no contract yet

    @property
    def count(self) -> int:
        """How many customers the send would invite."""
        return len(self.customers) if self.pending is None else self.pending


async def plan_invitations(
    rt: Runtime,
    slug: str,
    customers: Sequence[int] | Literal["pending"],
    *,
    count_only: bool = False,
) -> SendPlan:
    """What send_invitations() would do now: for a confirmation question before sending.
    count_only: PENDING customers are counted (SendPlan.pending), not loaded."""
    rt.tenant(slug)
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        if customers == PENDING and count_only:  # counted, not loaded (100,000 of them)
            return SendPlan((), pending=await repo.count_customers_without_contract())
        if customers == PENDING:
            return SendPlan(tuple(await repo.customers_without_contract()))
        wanted = list(dict.fromkeys(customers))  # once each, in the order given
        found = await repo.customers_by_ids(wanted)
        invited = await repo.customers_with_contract(list(found))
    return SendPlan(
        customers=tuple(found[c] for c in wanted if c in found and c not in invited),
        already_invited=tuple(c for c in wanted if c in invited),
        unknown=tuple(c for c in wanted if c not in found),
    )


# Invitations stored per transaction (and sent per job, over one SMTP connection): a batch
# shares one lock, one audit-chain step and one connection instead of paying each per mail.
BATCH = 50
GATHER_S = 0.25  # at most this long waiting for more rendered drafts before storing a batch
# Batches stored at once: while one transaction waits for its mails to be composed in the CPU
# pool, another writes to PostgreSQL (one writer left the pool idle half the time).
WRITERS = 3


async def send_invitations(
    rt: Runtime,
    slug: str,
    customers: Sequence[int] | Literal["pending"],
    actor: str,
    *,
    progress: Progress | None = None,
    concurrency: int | None = None,
) -> SendSummary:
    """Invite each customer (a contract, the draft PDF, the mail queued, as bot.service.invite
    does).

    ``customers``: ids of the tenant's customers, or PENDING for every customer with no
    contract yet. A customer with a contract (in any state) is skipped, never invited twice,
    also when two sends run at once; an id that is not one of this tenant's customers fails
    as unknown. One failure never stops the batch. ``progress(done, total, failures)`` is
    awaited after each customer. The mails leave through the job queue (see deliver()).

    Drafts render in the CPU pool (``concurrency`` at once) while the ones rendered are
    stored, up to BATCH per transaction.
    """
    tenant = rt.tenant(slug)
    plan = await plan_invitations(rt, slug, customers, count_only=True)
    summary = SendSummary(skipped=list(plan.already_invited))
    summary.failed.extend(
        SendFailure(cid, "", f"There is no customer {cid} for this tenant.") for cid in plan.unknown
    )
    targets = _Targets(rt, slug, plan.customers if customers != PENDING else None)
    drafts_of = invitations.Drafts(tenant)  # the shared draft rendered once, stamped per customer
    total = summary.total + plan.count
    done = summary.total
    if progress is not None and done:
        await progress(done, total, len(summary.failed))

    async def settled(outcomes: Sequence[Outcome]) -> None:
        nonlocal done
        for customer, outcome in outcomes:
            if isinstance(outcome, BaseException):
                log.warning("Inviting customer %s failed: %s", customer.id, outcome)
                summary.failed.append(SendFailure(customer.id, customer.name, _reason(outcome)))
            elif outcome is None:
                summary.skipped.append(customer.id)  # another send got there first
            else:
                summary.invited.append(Invitation(customer.id, outcome))
            done += 1
            if progress is not None:
                await progress(done, total, len(summary.failed))

    # Bounded: rendering may outrun storing, and each draft holds its PDF in memory.
    drafts: asyncio.Queue[invitations.Draft | None] = asyncio.Queue(maxsize=(WRITERS + 1) * BATCH)

    async def render() -> None:
        # One source shared by the renderers: each customer once.
        while (customer := await targets.next()) is not None:
            try:
                draft = await invitations.render_invitation(tenant, customer, drafts_of)
            except Exception as exc:  # one customer's failure never stops the batch
                await settled([(customer, exc)])
            else:
                await drafts.put(draft)

    async def store(batch: list[invitations.Draft]) -> None:
        await settled(await store_drafts(rt, slug, batch, actor))

    async def write() -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await drafts.get()]
            # A moment to fill the batch: renders arrive one by one, and a bigger batch costs
            # less per invitation.
            until = loop.time() + GATHER_S
            while len(batch) < BATCH and batch[-1] is not None and loop.time() < until:
                if drafts.empty():
                    await asyncio.sleep(0.01)
                else:
                    batch.append(drafts.get_nowait())
            ended = batch[-1] is None  # put after every render ended: nothing follows it
            ready = [d for d in batch if d is not None]
            if ended:
                await drafts.put(None)  # for the other writers
            if ready:
                # Storing waits while this process's sender is behind: copies it would have to
                # read back from PostgreSQL cost more than the wait (bot/outbox/unsent.py).
                await unsent.room(WRITERS * BATCH)
                await store(ready)
            if ended:
                return

    async def render_all() -> None:
        renderers = max(1, concurrency or _concurrency())
        await asyncio.gather(*(render() for _ in range(renderers)))
        await drafts.put(None)

    stages = [asyncio.ensure_future(render_all())]
    stages += [asyncio.ensure_future(write()) for _ in range(WRITERS)]
    try:
        await asyncio.gather(*stages)
    finally:
        for stage in stages:  # one failed (a progress callback raised): the other stops too
            stage.cancel()
    async with rt.db.transaction() as s:
        await audit.record(
            s,
            rt.scope(slug).id,
            actor,
            "invitations.sent",
            slug,
            {
                "requested": "pending" if customers == PENDING else len(customers),
                "invited": len(summary.invited),
                "skipped": len(summary.skipped),
                "failed": len(summary.failed),
            },
        )
    return summary


Outcome = tuple[Customer, int | BaseException | None]

# PENDING customers are read a page at a time: memory stays flat for 100,000 customers.
PAGE = 500


class _Targets:
    """The customers a send invites, one at a time: those named, or every customer without a
    contract, read in pages by id (a customer invited meanwhile is skipped when stored)."""

    def __init__(self, rt: Runtime, slug: str, named: Sequence[Customer] | None) -> None:
        self.rt, self.slug = rt, slug
        self.buffer: collections.deque[Customer] = collections.deque(named or ())
        self.paged = named is None
        self.after = 0
        self.lock = asyncio.Lock()

    async def next(self) -> Customer | None:
        async with self.lock:
            if not self.buffer and self.paged:
                async with self.rt.db.transaction() as s:
                    page = await self.rt.repo(s, self.slug).customers_without_contract(
                        after=self.after, limit=PAGE
                    )
                self.buffer.extend(page)
                self.paged = len(page) == PAGE
                if page:
                    self.after = page[-1].id
            return self.buffer.popleft() if self.buffer else None


async def store_drafts(
    rt: Runtime, slug: str, drafts: Sequence[invitations.Draft], actor: str
) -> list[Outcome]:
    """Store rendered invitations in one transaction (invitations.store_invitations); per draft its
    customer and the contract id, None (invited already) or the error. A batch that fails is
    stored draft by draft, so one bad draft fails alone."""
    try:
        ids = await invitations.store_invitations(rt, slug, drafts, actor=actor, once=True)
    except Exception as exc:  # one bad draft must not fail its batch
        if len(drafts) > 1:
            return [o for d in drafts for o in await store_drafts(rt, slug, [d], actor)]
        log.warning("Storing the invitation failed: %s", exc, exc_info=True)
        return [(drafts[0].customer, exc)]
    return [(d.customer, i) for d, i in zip(drafts, ids, strict=True)]


# --- delivery (one-shot commands) -------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """Where the batch's invitation mails are after the queue was worked: sent, or waiting for
    a retry of their job (the transport failed; the service retries with backoff)."""

    sent: int
    waiting: int


# Sending is I/O (SMTP round trips): more jobs at once than CPU cores.
SEND_CONCURRENCY = 8


async def send_now(
    rt: Runtime,
    slug: str,
    customers: Sequence[int] | Literal["pending"],
    actor: str,
    *,
    progress: Progress | None = None,
    concurrency: int | None = None,
) -> tuple[SendSummary, Delivery]:
    """send_invitations() for commands that run no worker (CLI, bench): a worker sends the
    mails while the rest are still being rendered, then the queue is worked until idle."""
    worker = asyncio.create_task(
        rt.app.run_worker_async(
            wait=True,
            concurrency=SEND_CONCURRENCY,
            install_signal_handlers=False,
            listen_notify=True,
            delete_jobs="successful",
        )
    )
    try:
        summary = await send_invitations(
            rt, slug, customers, actor, progress=progress, concurrency=concurrency
        )
    finally:
        worker.cancel()  # procrastinate stops gracefully: running jobs finish first
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    return summary, await deliver(rt, slug, summary)


async def deliver(
    rt: Runtime, slug: str, summary: SendSummary, *, concurrency: int = SEND_CONCURRENCY
) -> Delivery:
    """Work the job queue until idle (for commands that run no worker), then count the batch's
    invitation mails that left."""
    await run_jobs_until_idle(rt, concurrency=concurrency)
    ids = [i.contract_id for i in summary.invited]
    async with rt.db.transaction() as s:
        sent = await rt.repo(s, slug).sent_count(ids, "invitation")
    return Delivery(sent=sent, waiting=len(ids) - sent)
