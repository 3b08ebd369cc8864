"""/get (the archived signed PDF, its certificate of completion and its validation), /audit and
/export (admins)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
import tempfile
from pathlib import Path

from bot.archive.certificate import certificate_for
from bot.archive.store import certificate_name, export_zip
from bot.transports.telegram import MAX_UPLOAD
from handlers.staff._context import StaffContext
from handlers.staff._registry import ADMIN, STAFF, command
from storage import audit
from storage.errors import BlobError, NotFound
from storage.models import ArchiveEntry, Contract, Customer
from storage.repositories import TenantRepo

ARCHIVE_ID = re.compile(r"^\d{8}-[0-9a-f]{10}$")
AUDIT_DEFAULT, AUDIT_MAX = 10, 50


async def _lookup(
    repo: TenantRepo, ident: str
) -> tuple[Contract | None, ArchiveEntry | None, Customer | None]:
    """A contract id (12, #12) or an archive id (20260101-0a1b2c3d4e) of this tenant only."""
    entry: ArchiveEntry | None
    try:
        if ARCHIVE_ID.match(ident):
            entry = await repo.archive_entry(ident)
            contract = await repo.contract(entry.contract_id)
        elif ident.isdigit() and len(ident) < 10:
            contract = await repo.contract(int(ident))
            entry = await repo.archive_entry_for(contract)
        else:
            return None, None, None
        return contract, entry, await repo.customer(contract.customer_id)
    except NotFound:
        return None, None, None


@command("get", roles=STAFF, help="the signed PDF of a contract and its validation", usage="ID")
async def get(sc: StaffContext) -> None:
    sc.action = "archive.get"
    ident = sc.args[0].removeprefix("#").removeprefix(f"{sc.slug}-") if sc.args else ""
    sc.subject = ident
    if not ident:
        await sc.reply_template("usage", command="get")
        return
    async with sc.repo() as repo:
        contract, entry, customer = await _lookup(repo, ident)
    if contract is None or customer is None:
        sc.detail["found"] = False
        await sc.reply_template("not_found", what="contract", ident=ident)
        return
    sc.subject = f"contract:{contract.id}"
    if entry is None or entry.erased_at is not None:
        sc.detail["archived"] = False
        await sc.reply_template(
            "not_archived", ref=f"#{contract.id}", state=contract.state, entry=entry
        )
        return
    sc.detail["archive_id"] = entry.id
    try:
        pdf = await sc.rt.archive.async_get(entry.path, tenant=sc.slug)
        manifest = json.loads(await sc.rt.archive.async_get(entry.manifest_path, tenant=sc.slug))
    except (BlobError, OSError, ValueError) as exc:
        sc.detail["error"] = type(exc).__name__
        await sc.reply_template(
            "get_unreadable",
            ref=f"#{contract.id}",
            error=type(exc).__name__,
            archive_id=entry.id,
            slug=sc.slug,
        )
        return
    sc.detail["sha256"] = hashlib.sha256(pdf).hexdigest()
    await sc.send_document(
        pdf,
        f"verwerkersovereenkomst-{contract.id}-ondertekend.pdf",
        caption=sc.say(
            "get_caption", ref=f"#{contract.id}", customer=customer.name, archive_id=entry.id
        ),
    )
    await _send_certificate(sc, contract.id, entry.id)
    report = manifest.get("validation", {})
    await sc.reply_template(
        "validation",
        ref=f"#{contract.id}",
        customer=customer.name,
        entry=entry,
        sha256=sc.detail["sha256"],
        report=report,
        stamps=report.get("document_timestamps", []),
    )


async def _send_certificate(sc: StaffContext, contract_id: int, entry_id: str) -> None:
    """The certificate of completion (issued now if the archive has none for this PDF yet)."""
    try:
        cert = await certificate_for(sc.rt, sc.slug, entry_id, actor=sc.actor)
    except Exception as exc:  # the PDF was sent; a failed certificate is told, not raised
        sc.detail["certificate_error"] = type(exc).__name__
        await sc.reply(
            f"The certificate of completion of #{contract_id} could not be issued now "
            f"({type(exc).__name__}); try: dpabot archive certificate {entry_id} -o cert.pdf"
        )
        return
    sc.detail["certificate_sha256"] = hashlib.sha256(cert).hexdigest()
    await sc.send_document(
        cert,
        certificate_name(contract_id),
        caption=f"#{contract_id} certificate of completion, archive {entry_id}",
    )


@command("audit", roles=ADMIN, help="the latest audit events and the log's integrity", usage="[N]")
async def audit_log(sc: StaffContext) -> None:
    n = AUDIT_DEFAULT
    if sc.args and sc.args[0].isdigit():
        n = min(max(int(sc.args[0]), 1), AUDIT_MAX)
    async with sc.session() as s:
        check = await audit.check_chain(s, sc.tenant_id)
        events = (await audit.events(s, sc.tenant_id))[-n:]
    sc.detail.update({"shown": len(events), "chain_ok": check.ok})
    await sc.reply_template("audit", events=events, check=check, tenant=sc.tenant.name)


@command("export", roles=ADMIN, help="the whole archive as a zip with SHA256SUMS")
async def export(sc: StaffContext) -> None:
    sc.action = "archive.export"
    sc.subject = sc.slug
    with tempfile.TemporaryDirectory(prefix="dpabot-export-") as tmp:
        out = Path(tmp) / f"{sc.slug}-archive.zip"
        count = await export_zip(sc.rt.archive, sc.slug, out)
        size = (await asyncio.to_thread(out.stat)).st_size
        sc.detail.update({"files": count, "bytes": size})
        if size > MAX_UPLOAD:
            await sc.reply_template("export_too_large", mb=size // (1024 * 1024), slug=sc.slug)
            return
        data = await asyncio.to_thread(out.read_bytes)
    sc.detail["sha256"] = hashlib.sha256(data).hexdigest()
    day = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    await sc.send_document(
        data,
        f"{sc.slug}-archive-{day}.zip",
        caption=sc.say("export_caption", count=count),
    )
