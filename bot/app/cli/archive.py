"""The archive and the audit log: search, get, verify, certificate, export, audit."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app.cli.common import (
    FAILURE,
    OK,
    UsageError,
    actor,
    archive_session,
    database,
    load_roots,
    service_settings,
    show,
    tenants_of,
)
from bot.app.cli.lookup import configured, registered
from bot.app.cli.quiet import quiet_validation
from bot.core.settings import ServiceSettings
from bot.core.stores import archive_store
from storage import audit
from storage.models import ArchiveEntry, Tenant
from storage.repositories import ContractList, TenantRepo, bind_all_tenants


async def _tenant(s: AsyncSession, args: argparse.Namespace) -> Tenant:
    return await registered(s, service_settings(args.config), args.tenant)


async def _unarchived_note(s: AsyncSession, tenant: Tenant, args: argparse.Namespace) -> str:
    """Why an archive search found nothing although contracts match: they are not archived."""
    counts = await ContractList(s, [tenant.id]).count_unarchived(
        state=args.state, customer=args.query
    )
    total = sum(counts.values())
    if not total:
        return "Nothing found."
    where = f"dpabot contracts list --tenant {tenant.slug}"
    if args.state:
        where += f" --state {args.state}"
    if args.query.strip():
        where += f" --customer {shlex.quote(args.query.strip())}"
    states = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    many = "contracts match" if total != 1 else "contract matches"
    return (
        f"Nothing archived matches; {total} {many} but {'are' if total != 1 else 'is'} not "
        f"archived yet ({states}): see {where}."
    )


async def cmd_archive_search(args: argparse.Namespace) -> int:
    async def run(s: AsyncSession) -> int:
        tenant = await _tenant(s, args)
        rows = await TenantRepo(s, tenant.id).search_archive(
            args.query, state=args.state, date_from=args.date_from, date_to=args.date_to
        )
        filters = {
            k: str(v)
            for k, v in (("state", args.state), ("from", args.date_from), ("to", args.date_to))
            if v is not None
        }
        await audit.record(
            s,
            tenant.id,
            actor(),
            "archive.search",
            args.query[:200],
            {"results": len(rows), **filters},
        )
        data = [
            {
                "id": r.id,
                "customer": r.customer_name,
                "enterprise_number": r.customer_enterprise_number,
                "email": r.customer_email,
                "archived_at": r.created_at.isoformat(),
                "valid": r.validation_ok,
                "pdf": r.path,
            }
            for r in rows
        ]
        note = "" if data else await _unarchived_note(s, tenant, args)
        if args.json:
            show(data, True, "")
            if note != "Nothing found.":
                print(note, file=sys.stderr)  # stdout stays the JSON list
        else:
            show(
                data,
                False,
                "\n".join(
                    f"{d['id']}\t{d['customer']}\t{d['enterprise_number'] or '-'}\t"
                    f"{d['archived_at']}"
                    for d in data
                )
                or note,
            )
        return OK

    return await archive_session(args, run)


async def cmd_archive_get(args: argparse.Namespace) -> int:
    store = archive_store(service_settings(args.config))

    async def run(s: AsyncSession) -> int:
        if args.tenant:
            tenant = await _tenant(s, args)
            entry = await TenantRepo(s, tenant.id).archive_entry(args.id)
        else:
            await bind_all_tenants(s)
            found = await s.scalar(select(ArchiveEntry).where(ArchiveEntry.id == args.id))
            if found is None:
                raise UsageError(f"There is no archive entry {args.id}.")
            entry = found
        data = await store.async_get(entry.path, tenant=args.tenant)
        args.output.write_bytes(data)
        await audit.record(
            s, entry.tenant_id, actor(), "archive.get", entry.id, {"output": str(args.output)}
        )
        print(f"Wrote {args.output} (archive entry {entry.id}, {entry.customer_name}).")
        return OK

    return await archive_session(args, run)


def _trust_roots(args: argparse.Namespace, settings: ServiceSettings) -> list[Any]:
    """--trust files, else the tenant's configured roots, else the development PKI's roots."""
    if args.trust:
        return load_roots(args.trust)
    customer_roots: list[Path] = []
    for t in tenants_of(settings):
        if t.slug != args.tenant:
            continue
        # Contracts a customer signed with their own certificate chain to those roots.
        customer_roots = list(t.signing.customer_trust_roots)
        if t.signing.mode != "dev":
            return load_roots([*t.signing.trust_roots, *customer_roots])
    # The dev PKI keeps a replaced root beside the new one: archives may use either.
    dev = sorted((settings.data_dir / "pki").glob("root*.pem")) + customer_roots
    if not dev:
        raise UsageError(
            f"No trust roots are known for tenant {args.tenant}; pass --trust ROOT.pem."
        )
    return load_roots(dev)


async def cmd_archive_verify(args: argparse.Namespace) -> int:
    if not args.all and not args.id:
        raise UsageError("Name an archive entry ID or pass --all.")
    # Here, not at the top: the archive's checks load pyHanko; search, get and audit do not.
    from bot.archive.store import verify_entry

    settings = service_settings(args.config)
    store = archive_store(settings)
    db = await database(settings)
    try:
        async with db.transaction() as s:
            tenant = await _tenant(s, args)
            roots = _trust_roots(args, settings)
            if args.all:
                entries = (
                    await s.scalars(
                        select(ArchiveEntry)
                        .where(ArchiveEntry.tenant_id == tenant.id)
                        .order_by(ArchiveEntry.created_at)
                    )
                ).all()
            else:
                entries = [await TenantRepo(s, tenant.id).archive_entry(args.id)]
            with quiet_validation(args.verbose):
                checks = [await verify_entry(e, roots, store) for e in entries]
            await audit.record(
                s,
                tenant.id,
                actor(),
                "archive.verify",
                "all" if args.all else args.id,
                {"checked": len(checks), "failed": [c.id for c in checks if not c.ok]},
            )
    finally:
        await db.dispose()
    lines = []
    for c in checks:
        lines.append(f"{c.id}: {'ok' if c.ok else 'FAILED'}")
        lines.extend(f"  - {p}" for p in c.problems)
    ok = all(c.ok for c in checks)
    show(
        {"ok": ok, "entries": [c.to_dict() for c in checks]},
        args.json,
        "\n".join(lines) or "The tenant has no archived contracts.",
    )
    return OK if ok else FAILURE


async def cmd_archive_export(args: argparse.Namespace) -> int:
    from bot.archive.store import export_zip  # here: see cmd_archive_verify

    settings = service_settings(args.config)
    store = archive_store(settings)
    db = await database(settings)
    try:
        async with db.transaction() as s:
            tenant = await _tenant(s, args)
            # A tenant with nothing archived yet still gets a zip with an empty SHA256SUMS.
            count = await export_zip(store, tenant.slug, args.output)
            await audit.record(
                s,
                tenant.id,
                actor(),
                "archive.export",
                tenant.slug,
                {"output": str(args.output), "files": count},
            )
    finally:
        await db.dispose()
    print(f"Wrote {args.output} ({count} files and SHA256SUMS).")
    return OK


async def cmd_audit(args: argparse.Namespace) -> int:
    async def run(s: AsyncSession) -> int:
        tenant = await _tenant(s, args)
        events = await audit.events(s, tenant.id)
        check = await audit.check_chain(s, tenant.id) if args.verify else None
        data: dict[str, Any] = {
            "events": [
                {
                    "id": e.id,
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "subject": e.subject,
                    "detail": e.detail,
                    "hash": e.hash,
                }
                for e in events
            ]
        }
        lines = [
            f"{e['id']}\t{e['at']}\t{e['actor']}\t{e['action']}\t{e['subject']}"
            for e in data["events"]
        ]
        if check is not None:
            data["verify"] = {
                "ok": check.ok,
                "count": check.count,
                "first_bad_event": check.bad_event_id,
                "reason": check.reason,
            }
            lines.append(
                f"The audit log of {tenant.slug} is intact ({check.count} events)."
                if check.ok
                else f"The audit log of {tenant.slug} was tampered with: {check.reason}."
            )
        show(data, args.json, "\n".join(lines) or "No events.")
        return OK if check is None or check.ok else FAILURE

    return await archive_session(args, run)


async def cmd_archive_certificate(args: argparse.Namespace) -> int:
    """The certificate of completion of an archive entry (issued now if it has none yet)."""
    # Here, not at the top: the runtime and the certificate's rendering and signing.
    from bot.app.runtime import open_runtime
    from bot.archive.certificate import certificate_for

    settings = service_settings(args.config)
    slug = args.tenant
    if slug is None:  # the entry's own tenant, as `archive get` finds it
        db = await database(settings)
        try:
            async with db.transaction() as s:
                await bind_all_tenants(s)
                found = await s.scalar(select(ArchiveEntry).where(ArchiveEntry.id == args.id))
                if found is None:
                    raise UsageError(f"There is no archive entry {args.id}.")
                slug = await s.scalar(select(Tenant.slug).where(Tenant.id == found.tenant_id))
        finally:
            await db.dispose()
    tenants = [configured(settings, slug)]
    async with open_runtime(settings, tenants) as rt:
        async with rt.db.transaction() as s:
            await rt.repo(s, slug).archive_entry(args.id)  # unknown: one plain sentence
        data = await certificate_for(rt, slug, args.id, actor=actor())
    try:
        args.output.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"Cannot write {args.output} ({exc.strerror or exc}).") from exc
    print(f"Wrote {args.output} (certificate of completion of archive entry {args.id}).")
    return OK
