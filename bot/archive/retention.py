"""Retention and erasure: personal data goes when no longer needed; signed contracts stay."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Runtime
from storage import audit
from storage.blobs import BlobStore
from storage.database import after_commit
from storage.errors import BlobError
from storage.models import ArchiveEntry, Contract, Customer
from storage.repositories import COMPLETED, ERASED, TenantRepo

log = logging.getLogger(__name__)


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
    repo = TenantRepo(s, tenant_id)
    doomed: list[tuple[BlobStore, str]] = []
    await repo.erase_versions(contract)
    mails = await repo.erase_messages(contract)
    await repo.erase_change_requests(contract)
    sigs = await repo.signatures(contract)
    for sig in sigs:
        # A signed PDF prints the customer's name. The customer's signature points into the
        # archive: that file goes only with the archive entry, below.
        if blobs.holds(sig.blob_path):
            doomed.append((blobs, sig.blob_path))
        sig.signer = ERASED
        sig.evidence = {}
    entry = await repo.archive_entry_for(contract)
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
    if entry.certificate_path:  # the certificate of completion names the parties too
        paths.append(entry.certificate_path)
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


def _erase_customer_row(customer: Customer) -> None:
    customer.name = ERASED
    customer.representative = ERASED
    customer.representative_function = None
    customer.enterprise_number = None
    # The email is unique per tenant: a placeholder keeps the row and frees the address.
    customer.email = f"erased-{customer.id}@erased.invalid"


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
    repo = TenantRepo(s, tenant_id)
    due = await repo.lock_due_for_erasure(
        unsigned_before=incomplete_before, signed_before=signed_before
    )
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
        customer = await repo.customer(contract.customer_id)
        if not await repo.has_unerased_contract(customer.id):
            _erase_customer_row(customer)
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
    repo = TenantRepo(s, tenant_id)
    customer = await repo.customer_by_email(email)
    if customer is not None:
        contracts = await repo.lock_contracts_of(customer)
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
        if not await repo.has_unerased_contract(customer.id):
            _erase_customer_row(customer)
            erased.append(f"customer {customer.id} (name, representative, email)")
        else:
            kept.append(
                {
                    "what": f"customer {customer.id} (name, representative, email)",
                    "why": "named in a signed agreement that is still kept",
                }
            )
    # Mails from that address that never reached a contract are not needed for anything.
    stray = await repo.erase_stray_mail(email)
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
    for tenant in rt.scopes():
        async with rt.db.transaction() as s:
            erased += await apply_tenant(
                s,
                tenant.id,
                incomplete_days=tenant.settings.retention.incomplete_days,
                signed_years=tenant.settings.retention.signed_years,
                blobs=rt.blobs,
                archive=rt.archive,
            )
    return erased
