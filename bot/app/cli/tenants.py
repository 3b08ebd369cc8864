"""Tenants: make their keys, check what they need, register and list them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.app.cli.common import FAILURE, OK, database, service_settings, show
from bot.app.cli.lookup import configured
from bot.core.settings import load_tenant
from bot.core.tenant_templates import register_tenant_templates
from storage.models import Tenant
from storage.repositories import ensure_tenant

if TYPE_CHECKING:
    from bot.app.check_result import Check


def _print_checks(checks: list[Check], as_json: bool) -> None:
    show([c.to_dict() for c in checks], as_json, "\n".join(c.line() for c in checks))


async def cmd_tenant_check(args: argparse.Namespace) -> int:
    """One line per check (ok or what is wrong); exit 1 when any failed."""
    # The checks load pyHanko, the IMAP and SMTP clients: here, so `tenant list` stays light.
    from bot.app.checks import run_checks

    settings = service_settings(args.config)
    tenant = configured(settings, args.slug)
    checks = await run_checks(settings, tenant, limit=args.timeout)
    _print_checks(checks, args.json)
    return OK if all(c.ok for c in checks) else FAILURE


def _listed(files: list[Path], file: Path) -> bool:
    """Whether dpabot.toml's `tenants` names this file already (a quick local lookup)."""
    return file.resolve() in {f.resolve() for f in files}


async def cmd_tenant_add(args: argparse.Namespace) -> int:
    """Register a tenant, only when the checks say it can sign."""
    from bot.app.checks import blocking, run_checks  # here: see cmd_tenant_check

    settings = service_settings(args.config)
    tenant = load_tenant(args.file)
    register_tenant_templates([tenant])  # its template: packaged or in its own folder
    checks = await run_checks(settings, tenant, limit=args.timeout)
    _print_checks(checks, False)
    if any(not c.ok and blocking(c) for c in checks):
        print(
            f"Tenant {tenant.slug} was not registered: it cannot sign. Fix what is marked "
            f"FAILED in {args.file} and run 'dpabot tenant add' again.",
            file=sys.stderr,
        )
        return FAILURE
    db = await database(settings)
    try:
        async with db.transaction() as s:
            row = await ensure_tenant(s, tenant.slug, tenant.name)
    finally:
        await db.dispose()
    print(
        f"Tenant {tenant.slug} ({tenant.name}) is registered as id {row.id}"
        + (
            "; the service loads it from dpabot.toml."
            if _listed(settings.tenants, Path(args.file))
            else f"; add {args.file} to 'tenants' in dpabot.toml so the service loads it."
        )
    )
    failed = [c.name for c in checks if not c.ok]
    if failed:
        print(
            f"It can sign, but {', '.join(failed)} failed: mail or chat will not work until "
            f"that is fixed (dpabot tenant check {tenant.slug}).",
            file=sys.stderr,
        )
    return OK


async def cmd_tenant_list(args: argparse.Namespace) -> int:
    db = await database(service_settings(args.config))
    try:
        async with db.transaction() as s:
            rows = (await s.scalars(select(Tenant).order_by(Tenant.slug))).all()
    finally:
        await db.dispose()
    show(
        [{"slug": t.slug, "name": t.name} for t in rows],
        args.json,
        "\n".join(f"{t.slug}\t{t.name}" for t in rows) or "No tenants yet.",
    )
    return OK


def cmd_tenant_keygen(args: argparse.Namespace) -> int:
    # Imported here: key generation needs cryptography and pyHanko's signing package only.
    from bot.app.cli.keygen import keygen

    return keygen(args)


def cmd_tenant_install_cert(args: argparse.Namespace) -> int:
    from bot.app.cli.keygen import install_cert

    return install_cert(args)
