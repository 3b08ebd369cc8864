"""Retention and erasure: personal data goes when no longer needed; signed contracts stay."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Runtime
from storage import audit
from storage.blobs import BlobStore
from storage.database import after_commit
from storage.errors import BlobError
from storage.models import (
    ArchiveEntry,
    ChangeRequest,
    Contract,
    ContractVersion,
    Customer,
    Message,
    Signature,
)

log = logging.getLogger(__name__)

ERASED = "[erased]"
COMPLETED = "completed"


async def _erase_messages(s: AsyncSession, tenant_id: int, *where: Any) -> int:
    # The hash of the raw mail stays: it proves what was received without keeping it.
    result = await s.execute(
        update(Message)
        .where(Message.tenant_id == tenant_id, *where)
        .values(raw=b"", from_addr=None, to_addr=None, subject=None, detail=ERASED)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def erase_contract(
    s: AsyncSession,
    tenant_id: int,
    contract: Contract,
    *,
    blobs: BlobStore,
    archive: BlobStore | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """Remove one contract's personal data: answers, mails, change requests, signer names,
    signed drafts, and (for a signed contract) its archived files.

    The files go only after the caller's transaction commits (Database.transaction): a
    rolled-back erasure must not have deleted them. Should a deletion then fail, it is logged
    with the locator for a human; the rows already say erased."""
    doomed: list[tuple[BlobStore, str]] = []
    await s.execute(
        update(ContractVersion)
        .where(ContractVersion.tenant_id == tenant_id, ContractVersion.contract_id == contract.id)
        .values(fields={}, changed_by=ERASED, reason="")
    )
    mails = await _erase_messages(s, tenant_id, Message.contract_id == contract.id)
    await s.execute(
        update(ChangeRequest)
        .where(ChangeRequest.tenant_id == tenant_id, ChangeRequest.contract_id == contract.id)
        .values(text=ERASED)
    )
    sigs = (
        await s.scalars(
            select(Signature).where(
                Signature.tenant_id == tenant_id, Signature.contract_id == contract.id
            )
        )
    ).all()
    for sig in sigs:
        # A signed PDF prints the customer's name. The customer's signature points into the
        # archive: that file goes only with the archive entry, below.
        if blobs.holds(sig.blob_path):
            doomed.append((blobs, sig.blob_path))
        sig.signer = ERASED
        sig.evidence = {}
    entry = await s.scalar(
        select(ArchiveEntry).where(
            ArchiveEntry.tenant_id == tenant_id, ArchiveEntry.contract_id == contract.id
        )
    )
    files = 0
    if entry is not None and archive is not None:
        for path in await _archive_files(archive, entry):
            doomed.append((archive, path))
            files += 1
        entry.customer_name = ERASED
        entry.customer_email = ERASED
        entry.customer_enterprise_number = None
        entry.erased_at = now
    contract.erased_at = now
    if doomed:
        after_commit(s, lambda: _remove(doomed))
    return {"contract": contract.id, "mails": mails, "signatures": len(sigs), "files": files}


async def _remove(doomed: list[tuple[BlobStore, str]]) -> None:
    for store, locator in doomed:
        try:
            await store.async_remove(locator)
        except BlobError as exc:
            log.error("Erased in the database but not deleted, remove it by hand: %s", exc)


async def _archive_files(archive: BlobStore, entry: ArchiveEntry) -> list[str]:
    paths = [entry.path, entry.manifest_path]
    if entry.timestamp_path:
        paths.append(entry.timestamp_path)
    try:
        manifest = json.loads(await archive.async_get(entry.manifest_path))
        paths.append(manifest["pdf"]["path"])  # the original, when renewed
        paths += [e["path"] for e in manifest.get("evidence", [])]
    except (BlobError, ValueError, KeyError) as exc:
        # A lost or broken manifest must not keep the rest from being erased.
        log.warning(
            "Archive entry %s: the files its manifest names are not known (%s).", entry.id, exc
        )
    return sorted(set(paths))


async def _erase_customer_row(s: AsyncSession, customer: Customer) -> None:
    customer.name = ERASED
    customer.representative = ERASED
    customer.representative_function = None
    customer.enterprise_number = None
    # The email is unique per tenant: a placeholder keeps the row and frees the address.
    customer.email = f"erased-{customer.id}@erased.invalid"


async def _customer_done(s: AsyncSession, customer_id: int) -> bool:
    left = await s.scalar(
        select(Contract.id)
        .where(Contract.customer_id == customer_id, Contract.erased_at.is_(None))
        .limit(1)
    )
    return left is None


async def apply_tenant(
    s: AsyncSession,
    tenant_id: int,
    *,
    incomplete_days: int,
    signed_years: int,
    blobs: BlobStore,
    archive: BlobStore,
    now: dt.datetime | None = None,
) -> list[int]:
    """Erase what the tenant's retention periods have run out for; returns contract ids."""
    now = now or dt.datetime.now(dt.UTC)
    incomplete_before = now - dt.timedelta(days=incomplete_days)
    # Calendar years: the same day N years on (29 February falls back to the 28th).
    try:
        signed_before = now.replace(year=now.year - signed_years)
    except ValueError:
        signed_before = now.replace(year=now.year - signed_years, day=28)
    due = (
        await s.scalars(
            select(Contract)
            .where(
                Contract.tenant_id == tenant_id,
                Contract.erased_at.is_(None),
                or_(
                    (Contract.state != COMPLETED) & (Contract.created_at < incomplete_before),
                    (Contract.state == COMPLETED) & (Contract.completed_at < signed_before),
                ),
            )
            .order_by(Contract.id)
            .with_for_update()
        )
    ).all()
    for contract in due:
        signed = contract.state == COMPLETED
        done = await erase_contract(s, tenant_id, contract, blobs=blobs, archive=archive, now=now)
        await audit.record(
            s,
            tenant_id,
            "dpabot",
            "retention.erased",
            f"contract:{contract.id}",
            {
                **done,
                "reason": f"signed more than {signed_years} years ago"
                if signed
                else f"not completed within {incomplete_days} days",
            },
        )
        customer = await s.get(Customer, contract.customer_id)
        if customer is not None and await _customer_done(s, customer.id):
            await _erase_customer_row(s, customer)
    return [c.id for c in due]


async def erase_customer(
    s: AsyncSession,
    tenant_id: int,
    email: str,
    *,
    actor: str,
    blobs: BlobStore,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """An erasure request: what may go goes; signed contracts stay for their retention period
    (the processor must be able to prove the agreement), and the answer says so."""
    now = now or dt.datetime.now(dt.UTC)
    email = email.strip().lower()
    erased: list[str] = []
    kept: list[dict[str, str]] = []
    customer = await s.scalar(
        select(Customer).where(Customer.tenant_id == tenant_id, Customer.email == email)
    )
    if customer is not None:
        contracts = (
            await s.scalars(
                select(Contract)
                .where(Contract.tenant_id == tenant_id, Contract.customer_id == customer.id)
                .order_by(Contract.id)
                .with_for_update()
            )
        ).all()
        for c in contracts:
            if c.erased_at is not None:
                continue
            if c.state == COMPLETED:
                kept.append(
                    {
                        "what": f"contract {c.id} (signed agreement, its mails and archive)",
                        "why": "a signed data processing agreement is kept for the tenant's "
                        "retention period as proof of the agreement (GDPR art. 17(3)(e), 28)",
                    }
                )
                continue
            await erase_contract(s, tenant_id, c, blobs=blobs, archive=None, now=now)
            erased.append(f"contract {c.id} (answers, mails, change requests, signed drafts)")
        if await _customer_done(s, customer.id):
            await _erase_customer_row(s, customer)
            erased.append(f"customer {customer.id} (name, representative, email)")
        else:
            kept.append(
                {
                    "what": f"customer {customer.id} (name, representative, email)",
                    "why": "named in a signed agreement that is still kept",
                }
            )
    # Mails from that address that never reached a contract are not needed for anything.
    stray = await _erase_messages(
        s,
        tenant_id,
        Message.contract_id.is_(None),
        or_(Message.from_addr.ilike(f"%{email}%"), Message.to_addr.ilike(f"%{email}%")),
    )
    if stray:
        erased.append(f"{stray} unrouted mail(s)")
    subject = f"customer:{customer.id}" if customer is not None else "customer:unknown"
    # The event names the customer by id only: the log is append-only, so it must not keep
    # the address it has just been asked to forget.
    await audit.record(
        s,
        tenant_id,
        actor,
        "customer.erased",
        subject,
        {"erased": erased, "kept": kept},
    )
    return {"erased": erased, "kept": kept}


async def run(rt: Runtime) -> list[int]:
    """The daily job: apply every tenant's [retention] periods."""
    erased: list[int] = []
    for slug, tenant in rt.tenants.items():
        async with rt.db.transaction() as s:
            erased += await apply_tenant(
                s,
                rt.tenant_ids[slug],
                incomplete_days=tenant.retention.incomplete_days,
                signed_years=tenant.retention.signed_years,
                blobs=rt.blobs,
                archive=rt.archive,
            )
    return erased
