"""Contracts and mail by hand: show a contract, confirm a signer, ingest a mail."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy import select

from bot.app.cli.common import (
    OK,
    UsageError,
    actor,
    configured_tenant,
    database,
    read_file,
    service_settings,
    show,
    tenants_of,
)
from bot.app.cli.lookup import configured, registered
from bot.app.report import contract_report, contract_text
from bot.domain.workflow import State
from storage import audit
from storage.models import Contract, Tenant
from storage.repositories import ContractList, TenantRepo
from storage.scope import bind

STATES = [s.value for s in State]


async def cmd_contracts_confirm_signer(args: argparse.Namespace) -> int:
    """Staff confirm the signer of a returned signed PDF whose name/email did not match."""
    # Here, not at the top: the whole runtime, which `contracts show` does not need.
    from bot.app.runtime import open_runtime
    from bot.contracts.own_signature import confirm_signer

    settings, tenants = configured_tenant(args)
    async with open_runtime(settings, tenants) as rt:
        contract_id = await confirm_signer(rt, args.tenant, args.message, actor())
    print(
        f"Confirmed: contract {args.tenant}-{contract_id} goes on to signing and archiving "
        "(done by the running service)."
    )
    return OK


async def cmd_mail_ingest(args: argparse.Namespace) -> int:
    """One raw mail through the same pipeline as the IMAP listener (re-injection by hand)."""
    from bot.app.ops import ingest  # here: see cmd_contracts_confirm_signer
    from bot.app.runtime import open_runtime

    settings, tenants = configured_tenant(args)
    raw = read_file(args.file, "mail file")
    if not raw.strip():
        raise UsageError(f"The mail file {args.file} is empty.")
    async with open_runtime(settings, tenants) as rt:
        result = await ingest(rt, args.tenant, raw, actor())
    seen = "" if result["new"] else " (stored before: not processed again)"
    show(
        result,
        args.json,
        f"Message {result['message']} of {args.tenant}: {result['outcome']}{seen}"
        + (f" — {result['detail']}" if result["detail"] else ""),
    )
    return OK


async def cmd_contracts_show(args: argparse.Namespace) -> int:
    """A contract as it stands (state, version, fields, signatures, each mail's outcome)."""

    settings = service_settings(args.config)
    if args.tenant:
        configured(settings, args.tenant)
    slugs = [args.tenant] if args.tenant else [t.slug for t in tenants_of(settings)]
    db = await database(settings)
    try:
        async with db.transaction() as s:
            tenants = dict(
                (await s.execute(select(Tenant.slug, Tenant.id).where(Tenant.slug.in_(slugs))))
                .tuples()
                .all()
            )
            if args.tenant and args.tenant not in tenants:
                await registered(s, settings, args.tenant)  # its sentence: not registered yet
            # An operator of this configuration may look across its tenants, and no further.
            bind(s, tenants.values())
            tenant_id = await s.scalar(select(Contract.tenant_id).where(Contract.id == args.id))
            if tenant_id is None:
                where = f"tenant {args.tenant}" if args.tenant else "the configured tenants"
                raise UsageError(f"There is no contract {args.id} of {where}.")
            repo = TenantRepo(s, tenant_id)
            report = await contract_report(repo, args.id)
            report["tenant"] = next(slug for slug, i in tenants.items() if i == tenant_id)
            await audit.record(s, tenant_id, actor(), "contract.shown", f"contract:{args.id}")
    finally:
        await db.dispose()
    show(report, args.json, contract_text(report))
    return OK


async def cmd_contracts_list(args: argparse.Namespace) -> int:
    """Contracts newest first, of one tenant or every configured one, by state and customer."""
    if args.state is not None and args.state not in STATES:
        raise UsageError(
            f"There is no contract state '{args.state}'; the states are {', '.join(STATES)}."
        )
    settings = service_settings(args.config)
    if args.tenant:
        configured(settings, args.tenant)
    slugs = [args.tenant] if args.tenant else [t.slug for t in tenants_of(settings)]
    db = await database(settings)
    try:
        async with db.transaction() as s:
            if args.tenant:
                await registered(s, settings, args.tenant)
            tenants = dict(
                (await s.execute(select(Tenant.id, Tenant.slug).where(Tenant.slug.in_(slugs))))
                .tuples()
                .all()
            )
            # An operator of this configuration may look across its tenants, and no further.
            rows = await ContractList(s, tenants).list_contracts(
                state=args.state, customer=args.customer or "", limit=args.limit
            )
    finally:
        await db.dispose()
    data = [
        {
            "id": r.id,
            "tenant": tenants[r.tenant_id],
            "state": r.state,
            "version": r.version,
            "customer": r.customer,
            "email": r.email,
            "enterprise_number": r.enterprise_number,
            "created_at": r.created_at.isoformat(),
            "updated_at": r.updated_at.isoformat(),
        }
        for r in rows
    ]
    show(data, args.json, _table(data) if data else "No contracts match.")
    if len(rows) == args.limit:
        print(f"(the newest {args.limit}; --limit N shows more)", file=sys.stderr)
    return OK


def _table(data: list[dict[str, Any]]) -> str:
    head = ("ID", "TENANT", "STATE", "CUSTOMER", "EMAIL", "UPDATED")
    rows = [
        (
            str(d["id"]),
            d["tenant"],
            d["state"],
            d["customer"],
            d["email"],
            d["updated_at"][:16].replace("T", " "),
        )
        for d in data
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in [head, *rows]
    )
