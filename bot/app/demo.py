"""`dpabot demo`: the whole chain on embedded defaults, with a scripted customer."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from bot import contracts
from bot.app.runtime import open_runtime
from bot.core import redact
from bot.core.runtime import Runtime
from bot.core.settings import MailSettings, ServiceSettings, TenantSettings
from bot.jobs import run_jobs_until_idle
from bot.mail.listener import poll_once

DEMO_TENANT = TenantSettings(
    slug="ibeauty",
    name="iBeauty BVBA",
    template="ibeauty",
    enterprise_number="BE0662.785.756",
    representative="Michel Smekens",
    representative_function="Zaakvoerder",
    place="Antwerpen",
    mail=MailSettings(
        address="dpa@ibeauty.example", display_name="iBeauty BVBA", transport="maildir"
    ),
)
DEMO_CUSTOMER = {
    "name": "MOOI Schoonheidsverzorging",
    "enterprise_number": "BE0840.465.705",
    "representative": "Karolien Piskor",
    "representative_function": "Zaakvoerder",
    "email": "karolien@mooi-schoonheid.example",
}
DEMO_ANSWERS = """Beste,

Hierbij onze antwoorden voor bijlage 1:

1. Onderwerp van de verwerking: Beheer van het klantenbestand en de afspraken van het
schoonheidsinstituut in de salonsoftware van iBeauty.
2: Zolang de overeenkomst voor de salonsoftware loopt.
3) Registratie van klantgegevens, afspraken, behandelingen en facturatie.
4. Naam, adres, telefoonnummer, e-mailadres, geboortedatum en behandelingshistoriek.
5. Klanten van het schoonheidsinstituut.

Met vriendelijke groeten,
Karolien Piskor
MOOI Schoonheidsverzorging
"""


def _latest(outbox: Path, kind: str, reply_to: str) -> EmailMessage:
    """The contract's mail of that kind (the outbox holds every contract's mail)."""
    box = mailbox.Maildir(outbox, create=False)
    found = []
    for key in box.iterkeys():
        msg = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        if msg["X-Dpabot-Kind"] == kind and str(msg["Reply-To"]) == reply_to:
            found.append(msg)
    if not found:
        raise RuntimeError(f"the demo expected a '{kind}' mail in {outbox} and found none")
    return found[-1]  # type: ignore[return-value]


def customer_reply(original: EmailMessage, body: str, sender: str) -> bytes:
    """A reply as a mail client writes it: top-posted, the original quoted below."""
    reply = EmailMessage()
    reply["From"] = f"Karolien Piskor <{sender}>"
    reply["To"] = str(original["Reply-To"])
    reply["Delivered-To"] = str(original["Reply-To"])
    reply["Subject"] = f"Re: {original['Subject']}"
    reply["Date"] = formatdate()
    reply["Message-ID"] = make_msgid(domain=sender.partition("@")[2])
    reply["In-Reply-To"] = str(original["Message-ID"])
    reply["References"] = str(original["Message-ID"])
    text_part = original.get_body(preferencelist=("plain",))
    quoted = "\n".join(
        f"> {ln}" for ln in (text_part.get_content() if text_part else "").splitlines()
    )
    reply.set_content(f"{body}\n\nOp {original['Date']} schreef {original['From']}:\n{quoted}\n")
    return bytes(reply)


def _drop_in_inbox(inbox: Path, raw: bytes) -> None:
    mailbox.Maildir(inbox, create=True).add(raw)


async def run_demo(workdir: Path, database_url: str | None = None) -> dict[str, Any]:
    """Invite, reply, finalize, accept, sign, archive; returns the summary."""
    redact.install()
    started = time.monotonic()
    settings = ServiceSettings(data_dir=workdir, database_url=database_url)
    async with open_runtime(settings, [DEMO_TENANT]) as rt:
        result = await _chain(rt, started)
    result["config"] = str(write_config(workdir))
    return result


def _toml_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def write_config(workdir: Path) -> Path:
    """WORKDIR/dpabot.toml and its tenant file: every command can be tried on the demo's data
    (``dpabot mail ingest --config WORKDIR/dpabot.toml --tenant ibeauty reply.eml``)."""
    t = DEMO_TENANT
    tenant_file = workdir / "tenants" / f"{t.slug}.toml"
    tenant_file.parent.mkdir(parents=True, exist_ok=True)
    keys = ("slug", "name", "template", "enterprise_number", "representative")
    lines = [f"{k} = {_toml_value(getattr(t, k))}" for k in keys]
    lines += [
        f"representative_function = {_toml_value(t.representative_function)}",
        f"place = {_toml_value(t.place)}",
        "",
        "[mail]",
        f"address = {_toml_value(t.mail.address)}",
        f"display_name = {_toml_value(t.mail.display_name)}",
        'transport = "maildir"   # outbox and inbox under data_dir/mail/<slug>/',
        "",
        "[signing]",
        'mode = "dev"   # the development PKI under data_dir/pki (not trusted outside dpabot)',
    ]
    tenant_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = workdir / "dpabot.toml"
    config.write_text(
        "# Written by `dpabot demo`: the demo's embedded database, mail folders and archive.\n"
        'data_dir = "."\n'
        f'tenants = ["tenants/{t.slug}.toml"]\n',
        encoding="utf-8",
    )
    return config


async def run_chain(rt: Runtime, started: float) -> dict[str, Any]:
    """One contract through the whole chain on an open runtime (also used by bench/demo.py)."""
    return await _chain(rt, started)


async def _chain(rt: Runtime, started: float) -> dict[str, Any]:
    slug = DEMO_TENANT.slug
    outbox, inbox = rt.maildir(slug, "outbox"), rt.maildir(slug, "inbox")
    customer_id = await contracts.add_customer(rt, slug, **DEMO_CUSTOMER)
    contract_id = await contracts.invite(rt, slug, customer_id)
    reply_to = await _reply_address(rt, slug, contract_id)
    await run_jobs_until_idle(rt)
    invitation = _latest(outbox, "invitation", reply_to)
    _drop_in_inbox(inbox, customer_reply(invitation, DEMO_ANSWERS, DEMO_CUSTOMER["email"]))
    await poll_once(rt, slug)
    await run_jobs_until_idle(rt)
    final = _latest(outbox, "final", reply_to)
    _drop_in_inbox(
        inbox, customer_reply(final, "AKKOORD\n\nKarolien Piskor", DEMO_CUSTOMER["email"])
    )
    await poll_once(rt, slug)
    await run_jobs_until_idle(rt)
    return await summary(rt, slug, contract_id, time.monotonic() - started)


async def _reply_address(rt: Runtime, slug: str, contract_id: int) -> str:

    async with rt.db.transaction() as s:
        contract = await rt.repo(s, slug).contract(contract_id)
        return rt.tenant(slug).mail.reply_address(contract.reply_token)


async def summary(rt: Runtime, slug: str, contract_id: int, seconds: float) -> dict[str, Any]:

    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        contract = await repo.contract(contract_id)
        entry = await repo.archive_entry_for(contract)
    result: dict[str, Any] = {
        "state": contract.state,
        "archive_id": entry.id if entry else None,
        "pdf": entry.path if entry else None,
        "signatures": [],
        "timestamp": None,
        "trust_root": str(rt.signing[slug].trust_root_paths[0]),
        "seconds": round(seconds, 2),
    }
    if entry is not None:
        manifest = json.loads(Path(entry.manifest_path).read_text())
        report = manifest["validation"]
        parties = {"Processor": "processor", "Customer": "customer"}
        for sig in report["signatures"]:
            result["signatures"].append(
                {
                    "party": parties.get(sig["field"], sig["field"]),
                    "signer": sig["signer_cn"],
                    "valid": sig["ok"],
                    "signed_at": sig["timestamp_time"],
                }
            )
        stamps = report["document_timestamps"]
        result["timestamp"] = stamps[-1]["time"] if stamps else None
    return result


def human(result: dict[str, Any]) -> str:
    lines = [
        f"Contract state: {result['state']}",
        f"Archive id:     {result['archive_id']}",
        f"Signed PDF:     {result['pdf']}",
    ]
    for sig in result["signatures"]:
        mark = "valid" if sig["valid"] else "NOT VALID"
        lines.append(
            f"Signature:      {sig['party']}: {sig['signer']}, {sig['signed_at']} ({mark})"
        )
    lines.append(f"Archive timestamp: {result['timestamp']}")
    lines.append(
        f"Trust root (development PKI, not trusted outside dpabot): {result['trust_root']}"
    )
    lines.append(f"Done in {result['seconds']} s.")
    if result.get("config"):
        lines.append(f"Try other commands on this data with --config {result['config']}.")
    return "\n".join(lines)
