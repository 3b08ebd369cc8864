"""Contracts and mail by hand: show a contract, confirm a signer, ingest a mail."""

from __future__ import annotations

import argparse

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
from bot.app.report import contract_report, contract_text
from storage import audit
from storage.models import Contract, Tenant
from storage.repositories import TenantRepo
from storage.scope import bind


async def cmd_contracts_confirm_signer(args: argparse.Namespace) -> int:
    # Here, not at the top: the whole runtime, which `contracts show` does not need.
    from bot.app.runtime import open_runtime
    from bot.contracts.own_signature import confirm_signer

    """Staff confirm the signer of a returned signed PDF whose name/email did not match."""

    settings = service_settings(args.config)
    tenants = [t for t in tenants_of(settings) if t.slug == args.tenant]
    if not tenants:
        raise UsageError(f"There is no tenant '{args.tenant}' in this configuration.")
    async with open_runtime(settings, tenants) as rt:
        contract_id = await confirm_signer(rt, args.tenant, args.message, actor())
    print(
        f"Confirmed: contract {args.tenant}-{contract_id} goes on to signing and archiving "
        "(done by the running service)."
    )
    return OK


async def cmd_mail_ingest(args: argparse.Namespace) -> int:
    from bot.app.ops import ingest  # here: see cmd_contracts_confirm_signer
    from bot.app.runtime import open_runtime

    """One raw mail through the same pipeline as the IMAP listener (re-injection by hand)."""

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
                raise UsageError(f"There is no tenant '{args.tenant}' in this database.")
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
