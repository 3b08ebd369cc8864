"""Customers: import a list, invite (bulk send), erase personal data."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from bot.app.cli.common import (
    FAILURE,
    OK,
    UsageError,
    actor,
    configured_tenant,
    database,
    listed,
    read_file,
    service_settings,
    show,
)
from bot.app.cli.lookup import registered
from bot.app.runtime import open_runtime
from bot.archive.retention import erase_customer
from bot.contracts import bulk
from bot.contracts.customer_import import import_customers
from handlers.reader.customer_file import read_customer_file
from storage.blobs import FileBlobStore


async def cmd_customers_erase(args: argparse.Namespace) -> int:
    settings = service_settings(args.config)
    db = await database(settings)
    try:
        async with db.transaction() as s:
            tenant = await registered(s, settings, args.tenant)
            result = await erase_customer(
                s,
                tenant.id,
                args.email,
                actor=actor(),
                blobs=FileBlobStore(settings.data_dir / "blobs"),
            )
    finally:
        await db.dispose()
    lines = [f"erased: {e}" for e in result["erased"]] + [
        f"kept: {k['what']} ({k['why']})" for k in result["kept"]
    ]
    show(result, args.json, "\n".join(lines) or "Nothing to erase.")
    return OK


async def cmd_customers_import(args: argparse.Namespace) -> int:
    """Import a CSV/XLSX customer list: all rows or, when any row has a problem, none."""

    settings, tenants = configured_tenant(args)
    data = read_file(args.file, "customer file")
    parsed = read_customer_file(data, args.file.name)
    if not parsed.ok:
        for problem in parsed.problems:
            print(problem, file=sys.stderr)
        count = len(parsed.problems)
        raise UsageError(
            f"Nothing was imported: {args.file} has {count} problem{'s' * (count != 1)}; "
            "fix them and import the file again."
        )

    async with open_runtime(settings, tenants) as rt:
        result = await import_customers(rt, args.tenant, parsed.rows, actor())
    print(
        f"Imported {result.imported} new customer{'s' * (result.imported != 1)} into "
        f"{args.tenant} from {args.file} ({parsed.format})."
    )
    if result.existing:
        print(
            f"Skipped {len(result.existing)} already a customer (left unchanged): "
            + listed([f"row {e.row} ({e.email})" for e in result.existing])
            + "."
        )
    if parsed.ignored_columns:
        print(f"Columns not used: {', '.join(parsed.ignored_columns)}.")
    if result.imported:
        print(f"Invite them with: dpabot send --tenant {args.tenant} --all")
    return OK


class _ProgressBar:
    """One line on a terminal, redrawn with \r at most ten times a second."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.last = 0.0

    async def __call__(self, done: int, total: int, failures: int) -> None:

        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        width = 30
        filled = width * done // max(total, 1)
        failed = f", {failures} failed" if failures else ""
        sys.stderr.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{failed} "
        )
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


_YES = {"y", "yes", "j", "ja", "o", "oui"}


async def cmd_send(args: argparse.Namespace) -> int:
    """Invite customers in bulk; the mails leave through the job queue, worked here."""
    settings, tenants = configured_tenant(args)
    if not args.yes and not sys.stdin.isatty():
        raise UsageError(
            "Sending needs a confirmation and there is no terminal to ask on; "
            "add --yes to send without asking."
        )

    customers = bulk.PENDING if args.all else args.customer
    async with open_runtime(settings, tenants) as rt:
        plan = await bulk.plan_invitations(rt, args.tenant, customers, count_only=True)
        if not plan.count and not plan.unknown:
            print(
                f"Nothing to send: every customer of {args.tenant} has been invited already."
                if args.all
                else "Nothing to send: the customers named have been invited already."
            )
            return OK
        if not args.yes and plan.count:
            count = plan.count
            answer = await asyncio.to_thread(
                input,
                f"Send the invitation to {count} customer{'s' * (count != 1)} of "
                f"{tenants[0].name} ({args.tenant})? [y/N] ",
            )
            if answer.strip().lower() not in _YES:
                print("Nothing was sent.")
                return FAILURE
        progress = _ProgressBar("Inviting") if sys.stderr.isatty() else None
        summary, delivery = await bulk.send_now(
            rt, args.tenant, customers, actor(), progress=progress
        )
    print(
        f"Invited {len(summary.invited)} customer{'s' * (len(summary.invited) != 1)} of "
        f"{args.tenant}; {delivery.sent} invitation mail{'s' * (delivery.sent != 1)} sent."
    )
    if summary.skipped:
        print(
            f"Skipped {len(summary.skipped)} invited already: customer "
            + listed([str(c) for c in summary.skipped])
            + "."
        )
    for failure in summary.failed:
        print(f"not invited: {failure}", file=sys.stderr)
    if delivery.waiting:
        print(
            f"{delivery.waiting} invitation mail{'s' * (delivery.waiting != 1)} could not be sent "
            "yet; the service retries them (dpabot serve or worker; run with -v for the error).",
            file=sys.stderr,
        )
    return FAILURE if summary.failed or delivery.waiting else OK
