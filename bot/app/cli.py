"""The `dpabot` command line: one-sentence errors; exit 0 ok, 1 failure, 2 bad input."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bot.core import redact
from bot.errors import DpabotError

OK, FAILURE, BAD_INPUT = 0, 1, 2


class UsageError(DpabotError):
    """Bad input from the command line (exit 2)."""


def _service_settings(config: Path | None) -> Any:
    from bot.core.settings import load_service

    if config is None and Path("dpabot.toml").exists():
        config = Path("dpabot.toml")
    return load_service(config)


def _tenants(settings: Any) -> list[Any]:
    from bot.core.settings import load_tenant

    return [load_tenant(p) for p in settings.tenants]


async def _database(settings: Any) -> Any:
    from bot.core.runtime import database_url
    from storage.database import Database
    from storage.scope import APP_ROLE

    db = Database(await asyncio.to_thread(database_url, settings), role=APP_ROLE)
    await db.upgrade()
    return db


def _print(data: Any, as_json: bool, text: str) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str) if as_json else text)


# --- commands -------------------------------------------------------------------------------


async def cmd_demo(args: argparse.Namespace) -> int:
    from bot.app.demo import human, run_demo

    settings = _service_settings(None)
    workdir = (args.workdir or settings.data_dir).resolve()
    result = await run_demo(workdir, settings.database_url)
    _print(result, args.json, human(result))
    return (
        OK
        if result["state"] == "completed" and all(s["valid"] for s in result["signatures"])
        else FAILURE
    )


async def cmd_serve(args: argparse.Namespace) -> int:
    from bot.app.serve import serve

    settings = _service_settings(args.config)
    await serve(settings, _tenants(settings), listeners=True, workers=args.concurrency)
    return OK


async def cmd_worker(args: argparse.Namespace) -> int:
    from bot.app.serve import serve

    settings = _service_settings(args.config)
    await serve(settings, _tenants(settings), listeners=False, workers=args.concurrency)
    return OK


async def cmd_db_upgrade(args: argparse.Namespace) -> int:
    db = await _database(_service_settings(args.config))
    await db.dispose()
    print("The database schema is up to date.")
    return OK


async def cmd_tenant_add(args: argparse.Namespace) -> int:
    from bot.core.settings import load_tenant
    from storage.repositories import ensure_tenant

    tenant = load_tenant(args.file)
    db = await _database(_service_settings(args.config))
    try:
        async with db.transaction() as s:
            row = await ensure_tenant(s, tenant.slug, tenant.name)
        print(
            f"Tenant {tenant.slug} ({tenant.name}) is registered as id {row.id}; add "
            f"{args.file} to 'tenants' in dpabot.toml so the service loads it."
        )
    finally:
        await db.dispose()
    return OK


async def cmd_tenant_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from storage.models import Tenant

    db = await _database(_service_settings(args.config))
    try:
        async with db.transaction() as s:
            rows = (await s.scalars(select(Tenant).order_by(Tenant.slug))).all()
    finally:
        await db.dispose()
    _print(
        [{"slug": t.slug, "name": t.name} for t in rows],
        args.json,
        "\n".join(f"{t.slug}\t{t.name}" for t in rows) or "No tenants yet.",
    )
    return OK


def cmd_render(args: argparse.Namespace) -> int:
    from templates import TemplateError, render_pdf

    try:
        data = json.loads(args.data.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"The data file {args.data} is not readable JSON ({exc}).") from exc
    try:
        pdf = render_pdf(args.template, data, draft=args.draft)
    except TemplateError as exc:
        raise UsageError(str(exc)) from exc
    args.output.write_bytes(pdf)
    print(f"Wrote {args.output} ({len(pdf)} bytes).")
    return OK


def cmd_parse_reply(args: argparse.Namespace) -> int:
    from handlers.reader.reader import read_reply
    from templates import TemplateError, load_manifest

    try:
        raw = args.file.read_bytes()
    except OSError as exc:
        raise UsageError(f"The mail file {args.file} cannot be read ({exc}).") from exc
    try:
        load_manifest(args.template)
    except TemplateError as exc:
        raise UsageError(str(exc)) from exc
    reading = read_reply(raw, args.template)
    out = reading.as_json()
    text = "\n".join(
        [f"{k}: {v}" for k, v in reading.fields.items()]
        + [
            f"missing: {', '.join(reading.missing) or '-'}",
            f"invalid: {json.dumps(reading.invalid, ensure_ascii=False)}",
            f"accept: {reading.accept}  decline: {reading.decline}  "
            f"auto_reply: {reading.auto_reply}  bounce: {reading.bounce}  "
            f"language: {reading.language}",
        ]
        + [f"change request: {c['article'] or '-'}: {c['text']}" for c in reading.change_requests]
        + [f"question: {q}" for q in reading.questions]
        + [f"note: {n}" for n in reading.notes]
    )
    _print(out, args.json, text)
    return OK


def _load_roots(paths: list[Path]) -> list[Any]:
    from bot.core.tenant_signing import load_cert

    try:
        return [load_cert(p) for p in paths]
    except DpabotError as exc:
        raise UsageError(str(exc)) from exc


async def cmd_verify(args: argparse.Namespace) -> int:
    from signing import validate_pdf

    try:
        pdf = args.file.read_bytes()
    except OSError as exc:
        raise UsageError(f"The PDF {args.file} cannot be read ({exc}).") from exc
    report = await validate_pdf(pdf, _load_roots(args.trust))
    data = report.to_dict()
    lines = []
    for s in data["signatures"]:
        lines.append(
            f"{s['field']}: {s['signer_cn']} <{s['signer_email'] or '-'}> "
            f"timestamp {s['timestamp_time']} coverage {s['coverage']} "
            f"modifications {s['modification_level']} AdES {s['ades_status']}"
            f"{'' if s['ok'] else ' — NOT VALID'}\n  certificate sha256 {s['cert_sha256']}"
        )
    for t in data["document_timestamps"]:
        lines.append(f"{t['field']}: document timestamp {t['time']} by {t['tsa_cn']}")
    lines.append(
        "Verdict: all signatures valid."
        if report.ok
        else f"Verdict: NOT valid. {data['error'] or ''}".strip()
    )
    _print(data, args.json, "\n".join(lines))
    return OK if report.ok else FAILURE


async def _archive_session(
    args: argparse.Namespace, fn: Callable[..., Coroutine[Any, Any, int]]
) -> int:
    db = await _database(_service_settings(args.config))
    try:
        async with db.transaction() as s:
            return await fn(s)
    finally:
        await db.dispose()


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def _date(value: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-23") from exc


async def cmd_archive_search(args: argparse.Namespace) -> int:
    from storage import audit
    from storage.repositories import TenantRepo, get_tenant

    async def run(s: Any) -> int:
        tenant = await get_tenant(s, args.tenant)
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
            _actor(),
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
        _print(
            data,
            args.json,
            "\n".join(
                f"{d['id']}\t{d['customer']}\t{d['enterprise_number'] or '-'}\t{d['archived_at']}"
                for d in data
            )
            or "Nothing found.",
        )
        return OK

    return await _archive_session(args, run)


async def cmd_archive_get(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.core.runtime import archive_store
    from storage import audit
    from storage.models import ArchiveEntry
    from storage.repositories import TenantRepo, bind_all_tenants, get_tenant

    store = archive_store(_service_settings(args.config))

    async def run(s: Any) -> int:
        if args.tenant:
            tenant = await get_tenant(s, args.tenant)
            entry = await TenantRepo(s, tenant.id).archive_entry(args.id)
        else:
            await bind_all_tenants(s)
            entry = await s.scalar(select(ArchiveEntry).where(ArchiveEntry.id == args.id))
            if entry is None:
                raise UsageError(f"There is no archive entry {args.id}.")
        data = await store.async_get(entry.path, tenant=args.tenant)
        args.output.write_bytes(data)
        await audit.record(
            s, entry.tenant_id, _actor(), "archive.get", entry.id, {"output": str(args.output)}
        )
        print(f"Wrote {args.output} (archive entry {entry.id}, {entry.customer_name}).")
        return OK

    return await _archive_session(args, run)


def _trust_roots(args: argparse.Namespace, settings: Any) -> list[Any]:
    """--trust files, else the tenant's configured roots, else the development PKI's roots."""
    if args.trust:
        return _load_roots(args.trust)
    customer_roots: list[Path] = []
    for t in _tenants(settings):
        if t.slug != args.tenant:
            continue
        # Contracts a customer signed with their own certificate chain to those roots.
        customer_roots = list(t.signing.customer_trust_roots)
        if t.signing.mode != "dev":
            return _load_roots([*t.signing.trust_roots, *customer_roots])
    # The dev PKI keeps a replaced root beside the new one: archives may use either.
    dev = sorted((settings.data_dir / "pki").glob("root*.pem")) + customer_roots
    if not dev:
        raise UsageError(
            f"No trust roots are known for tenant {args.tenant}; pass --trust ROOT.pem."
        )
    return _load_roots(dev)


async def cmd_archive_verify(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.archive.store import verify_entry
    from bot.core.runtime import archive_store
    from storage import audit
    from storage.models import ArchiveEntry
    from storage.repositories import TenantRepo, get_tenant

    if not args.all and not args.id:
        raise UsageError("Name an archive entry ID or pass --all.")
    settings = _service_settings(args.config)
    roots = _trust_roots(args, settings)
    store = archive_store(settings)
    db = await _database(settings)
    try:
        async with db.transaction() as s:
            tenant = await get_tenant(s, args.tenant)
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
            checks = [await verify_entry(e, roots, store) for e in entries]
            await audit.record(
                s,
                tenant.id,
                _actor(),
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
    _print(
        {"ok": ok, "entries": [c.to_dict() for c in checks]},
        args.json,
        "\n".join(lines) or "The tenant has no archived contracts.",
    )
    return OK if ok else FAILURE


async def cmd_archive_export(args: argparse.Namespace) -> int:
    from bot.archive.store import export_zip
    from bot.core.runtime import archive_store
    from storage import audit
    from storage.repositories import get_tenant

    settings = _service_settings(args.config)
    store = archive_store(settings)
    db = await _database(settings)
    try:
        async with db.transaction() as s:
            tenant = await get_tenant(s, args.tenant)
            # A tenant with nothing archived yet still gets a zip with an empty SHA256SUMS.
            count = await export_zip(store, tenant.slug, args.output)
            await audit.record(
                s,
                tenant.id,
                _actor(),
                "archive.export",
                tenant.slug,
                {"output": str(args.output), "files": count},
            )
    finally:
        await db.dispose()
    print(f"Wrote {args.output} ({count} files and SHA256SUMS).")
    return OK


async def cmd_audit(args: argparse.Namespace) -> int:
    from storage import audit
    from storage.repositories import get_tenant

    async def run(s: Any) -> int:
        tenant = await get_tenant(s, args.tenant)
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
        _print(data, args.json, "\n".join(lines) or "No events.")
        return OK if check is None or check.ok else FAILURE

    return await _archive_session(args, run)


async def cmd_customers_erase(args: argparse.Namespace) -> int:
    from bot.archive.retention import erase_customer
    from storage.blobs import FileBlobStore
    from storage.repositories import get_tenant

    settings = _service_settings(args.config)
    db = await _database(settings)
    try:
        async with db.transaction() as s:
            tenant = await get_tenant(s, args.tenant)
            result = await erase_customer(
                s,
                tenant.id,
                args.email,
                actor=_actor(),
                blobs=FileBlobStore(settings.data_dir / "blobs"),
            )
    finally:
        await db.dispose()
    lines = [f"erased: {e}" for e in result["erased"]] + [
        f"kept: {k['what']} ({k['why']})" for k in result["kept"]
    ]
    _print(result, args.json, "\n".join(lines) or "Nothing to erase.")
    return OK


async def cmd_contracts_confirm_signer(args: argparse.Namespace) -> int:
    """Staff confirm the signer of a returned signed PDF whose name/email did not match."""
    from bot.app.runtime import open_runtime
    from bot.contracts.own_signature import confirm_signer

    settings = _service_settings(args.config)
    tenants = [t for t in _tenants(settings) if t.slug == args.tenant]
    if not tenants:
        raise UsageError(f"There is no tenant '{args.tenant}' in this configuration.")
    async with open_runtime(settings, tenants) as rt:
        contract_id = await confirm_signer(rt, args.tenant, args.message, _actor())
    print(
        f"Confirmed: contract {args.tenant}-{contract_id} goes on to signing and archiving "
        "(done by the running service)."
    )
    return OK


async def cmd_mail_ingest(args: argparse.Namespace) -> int:
    """One raw mail through the same pipeline as the IMAP listener (re-injection by hand)."""
    from bot.app.ops import ingest
    from bot.app.runtime import open_runtime

    settings, tenants = _configured_tenant(args)
    raw = _read_file(args.file, "mail file")
    if not raw.strip():
        raise UsageError(f"The mail file {args.file} is empty.")
    async with open_runtime(settings, tenants) as rt:
        result = await ingest(rt, args.tenant, raw, _actor())
    seen = "" if result["new"] else " (stored before: not processed again)"
    _print(
        result,
        args.json,
        f"Message {result['message']} of {args.tenant}: {result['outcome']}{seen}"
        + (f" — {result['detail']}" if result["detail"] else ""),
    )
    return OK


async def cmd_contracts_show(args: argparse.Namespace) -> int:
    """A contract as it stands (state, version, fields, signatures, each mail's outcome)."""
    from sqlalchemy import select

    from bot.app.ops import contract_report, contract_text
    from storage import audit
    from storage.models import Contract, Tenant
    from storage.repositories import TenantRepo
    from storage.scope import bind

    settings = _service_settings(args.config)
    slugs = [args.tenant] if args.tenant else [t.slug for t in _tenants(settings)]
    db = await _database(settings)
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
            await audit.record(s, tenant_id, _actor(), "contract.shown", f"contract:{args.id}")
    finally:
        await db.dispose()
    _print(report, args.json, contract_text(report))
    return OK


def _configured_tenant(args: argparse.Namespace) -> tuple[Any, list[Any]]:
    """The service settings and the one tenant named by --tenant (a usage error if unknown)."""
    settings = _service_settings(args.config)
    tenants = [t for t in _tenants(settings) if t.slug == args.tenant]
    if not tenants:
        raise UsageError(f"There is no tenant '{args.tenant}' in this configuration.")
    return settings, tenants


def _read_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"The {what} {path} cannot be read ({exc}).") from exc


def _listed(items: list[str], limit: int = 20) -> str:
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" and {more} more" if more > 0 else "")


async def cmd_customers_import(args: argparse.Namespace) -> int:
    """Import a CSV/XLSX customer list: all rows or, when any row has a problem, none."""
    from handlers.reader.customer_file import read_customer_file

    settings, tenants = _configured_tenant(args)
    data = _read_file(args.file, "customer file")
    parsed = read_customer_file(data, args.file.name)
    if not parsed.ok:
        for problem in parsed.problems:
            print(problem, file=sys.stderr)
        count = len(parsed.problems)
        raise UsageError(
            f"Nothing was imported: {args.file} has {count} problem{'s' * (count != 1)}; "
            "fix them and import the file again."
        )
    from bot.app.runtime import open_runtime
    from bot.contracts.bulk import import_customers

    async with open_runtime(settings, tenants) as rt:
        result = await import_customers(rt, args.tenant, parsed.rows, _actor())
    print(
        f"Imported {result.imported} new customer{'s' * (result.imported != 1)} into "
        f"{args.tenant} from {args.file} ({parsed.format})."
    )
    if result.existing:
        print(
            f"Skipped {len(result.existing)} already a customer (left unchanged): "
            + _listed([f"row {e.row} ({e.email})" for e in result.existing])
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
        import time

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
    settings, tenants = _configured_tenant(args)
    if not args.yes and not sys.stdin.isatty():
        raise UsageError(
            "Sending needs a confirmation and there is no terminal to ask on; "
            "add --yes to send without asking."
        )
    from bot.app.runtime import open_runtime
    from bot.contracts import bulk

    customers = bulk.PENDING if args.all else args.customer
    async with open_runtime(settings, tenants) as rt:
        plan = await bulk.plan_invitations(rt, args.tenant, customers)
        if not plan.customers and not plan.unknown:
            print(
                f"Nothing to send: every customer of {args.tenant} has been invited already."
                if args.all
                else "Nothing to send: the customers named have been invited already."
            )
            return OK
        if not args.yes and plan.customers:
            count = len(plan.customers)
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
            rt, args.tenant, customers, _actor(), progress=progress
        )
    print(
        f"Invited {len(summary.invited)} customer{'s' * (len(summary.invited) != 1)} of "
        f"{args.tenant}; {delivery.sent} invitation mail{'s' * (delivery.sent != 1)} sent."
    )
    if summary.skipped:
        print(
            f"Skipped {len(summary.skipped)} invited already: customer "
            + _listed([str(c) for c in summary.skipped])
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


# --- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dpabot", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = p.add_subparsers(dest="command", required=True)

    def cfg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--config", type=Path, help="dpabot.toml (default: ./dpabot.toml)")

    d = sub.add_parser("demo", help="run the whole chain on embedded defaults")
    d.add_argument("--workdir", type=Path)
    d.add_argument("--json", action="store_true")
    d.set_defaults(run=cmd_demo)

    s = sub.add_parser("serve", help="listeners and workers in one process")
    cfg(s)
    s.add_argument("--concurrency", type=int, default=2)
    s.set_defaults(run=cmd_serve)
    w = sub.add_parser("worker", help="a worker process for the job queue")
    cfg(w)
    w.add_argument("--concurrency", type=int, default=2)
    w.set_defaults(run=cmd_worker)

    db = sub.add_parser("db", help="database")
    dbs = db.add_subparsers(dest="db_command", required=True)
    up = dbs.add_parser("upgrade", help="apply migrations")
    cfg(up)
    up.set_defaults(run=cmd_db_upgrade)

    t = sub.add_parser("tenant", help="tenants")
    ts = t.add_subparsers(dest="tenant_command", required=True)
    ta = ts.add_parser("add")
    cfg(ta)
    ta.add_argument("file", type=Path)
    ta.set_defaults(run=cmd_tenant_add)
    tl = ts.add_parser("list")
    cfg(tl)
    tl.add_argument("--json", action="store_true")
    tl.set_defaults(run=cmd_tenant_list)

    r = sub.add_parser("render", help="template + field values → PDF")
    r.add_argument("--template", required=True)
    r.add_argument("--data", type=Path, required=True)
    r.add_argument("-o", "--output", type=Path, required=True)
    r.add_argument("--draft", action="store_true")
    r.set_defaults(run=cmd_render)

    pr = sub.add_parser("parse-reply", help="what dpabot reads in a reply")
    pr.add_argument("file", type=Path)
    pr.add_argument("--template", required=True)
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(run=cmd_parse_reply)

    v = sub.add_parser("verify", help="signature report of a PDF")
    v.add_argument("file", type=Path)
    v.add_argument("--trust", type=Path, action="append", default=[])
    v.add_argument("--json", action="store_true")
    v.set_defaults(run=cmd_verify)

    a = sub.add_parser("archive", help="signed contracts")
    asub = a.add_subparsers(dest="archive_command", required=True)
    se = asub.add_parser("search")
    cfg(se)
    se.add_argument("query", nargs="?", default="", help="name, email, number or id (default: all)")
    se.add_argument("--tenant", required=True)
    se.add_argument("--state", help="contract state, e.g. completed")
    se.add_argument("--from", dest="date_from", type=_date, help="archived on or after (date)")
    se.add_argument("--to", dest="date_to", type=_date, help="archived on or before (date)")
    se.add_argument("--json", action="store_true")
    se.set_defaults(run=cmd_archive_search)
    g = asub.add_parser("get")
    cfg(g)
    g.add_argument("id")
    g.add_argument("-o", "--output", type=Path, required=True)
    g.add_argument("--tenant")
    g.set_defaults(run=cmd_archive_get)
    ve = asub.add_parser("verify", help="recheck files, hashes, timestamps and signatures")
    cfg(ve)
    ve.add_argument("id", nargs="?")
    ve.add_argument("--all", action="store_true")
    ve.add_argument("--tenant", required=True)
    ve.add_argument("--trust", type=Path, action="append", default=[])
    ve.add_argument("--json", action="store_true")
    ve.set_defaults(run=cmd_archive_verify)
    ex = asub.add_parser("export", help="zip of a tenant's archive with SHA256SUMS")
    cfg(ex)
    ex.add_argument("--tenant", required=True)
    ex.add_argument("-o", "--output", type=Path, required=True)
    ex.set_defaults(run=cmd_archive_export)

    au = sub.add_parser("audit", help="a tenant's audit log")
    cfg(au)
    au.add_argument("--tenant", required=True)
    au.add_argument("--verify", action="store_true", help="check the chain and its anchor")
    au.add_argument("--json", action="store_true")
    au.set_defaults(run=cmd_audit)

    cu = sub.add_parser("customers", help="customers")
    cus = cu.add_subparsers(dest="customers_command", required=True)
    er = cus.add_parser("erase", help="erase a customer's personal data (what the law allows)")
    cfg(er)
    er.add_argument("--tenant", required=True)
    er.add_argument("--email", required=True)
    er.add_argument("--json", action="store_true")
    er.set_defaults(run=cmd_customers_erase)
    im = cus.add_parser("import", help="import a customer list (CSV or XLSX): all rows or none")
    cfg(im)
    im.add_argument("--tenant", required=True)
    im.add_argument("file", type=Path, help="FILE.csv or FILE.xlsx")
    im.set_defaults(run=cmd_customers_import)

    sn = sub.add_parser("send", help="invite customers: a contract and the mail with its draft")
    cfg(sn)
    sn.add_argument("--tenant", required=True)
    who = sn.add_mutually_exclusive_group(required=True)
    who.add_argument("--all", action="store_true", help="every customer not invited yet")
    who.add_argument(
        "--customer", type=int, nargs="+", action="extend", metavar="ID", help="customer ids"
    )
    sn.add_argument("--yes", action="store_true", help="send without asking for confirmation")
    sn.set_defaults(run=cmd_send)

    co = sub.add_parser("contracts", help="contracts")
    cos = co.add_subparsers(dest="contracts_command", required=True)
    cs = cos.add_parser(
        "confirm-signer",
        help="accept a returned signed PDF whose certificate names someone else (staff check)",
    )
    cfg(cs)
    cs.add_argument("--tenant", required=True)
    cs.add_argument("message", type=int, help="the message id named in the staff notice")
    cs.set_defaults(run=cmd_contracts_confirm_signer)
    sh = cos.add_parser("show", help="a contract: state, version, fields, signatures, mails")
    cfg(sh)
    sh.add_argument("id", type=int)
    sh.add_argument("--tenant", help="the contract's tenant (default: any configured tenant)")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(run=cmd_contracts_show)

    ma = sub.add_parser("mail", help="mail")
    mas = ma.add_subparsers(dest="mail_command", required=True)
    ing = mas.add_parser("ingest", help="run one raw mail through the listener's pipeline")
    cfg(ing)
    ing.add_argument("--tenant", required=True)
    ing.add_argument("file", type=Path, help="FILE.eml")
    ing.add_argument("--json", action="store_true")
    ing.set_defaults(run=cmd_mail_ingest)
    return p


def main(argv: list[str] | None = None) -> int:
    # Before anything logs: no secret nor bot token in a log line, whatever level is set.
    redact.install()
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        result = args.run(args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return int(result)
    except UsageError as exc:
        print(f"dpabot: {redact.redact(str(exc))}", file=sys.stderr)
        return BAD_INPUT
    except DpabotError as exc:
        print(f"dpabot: {redact.redact(str(exc))}", file=sys.stderr)
        return BAD_INPUT if type(exc).__name__ == "ConfigError" else FAILURE
    except KeyboardInterrupt:
        return FAILURE
    except Exception as exc:  # the last wall: one sentence, not a traceback
        from signing import SigningError
        from storage.errors import StorageError

        # The error's words may quote a URL or a library's message holding a secret.
        said = redact.redact(str(exc))
        if isinstance(exc, SigningError | StorageError):
            print(f"dpabot: {said}", file=sys.stderr)
            return FAILURE
        print(
            f"dpabot: unexpected error ({type(exc).__name__}: {said}); run with -v and report it.",
            file=sys.stderr,
        )
        logging.getLogger(__name__).debug("traceback", exc_info=True)
        return FAILURE


if __name__ == "__main__":
    sys.exit(main())
