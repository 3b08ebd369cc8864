"""`dpabot demo`: the whole chain on embedded defaults, with a scripted customer (one of the
seeds in bot/app/demo_seeds.py)."""

from __future__ import annotations

import asyncio
import email
import email.parser
import email.policy
import json
import mailbox
import sys
import time
from concurrent.futures import Future
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from bot import contracts
from bot.app.demo_config import write_config
from bot.app.demo_seeds import DEFAULT_SEED, SEEDS, DemoSeed
from bot.app.runtime import open_runtime
from bot.core import redact
from bot.core.runtime import Runtime
from bot.core.settings import ServiceSettings
from bot.jobs import run_jobs_until_idle
from bot.mail.listener import poll_once

DEMO_SEED = SEEDS[DEFAULT_SEED]
DEMO_TENANT = DEMO_SEED.tenant
DEMO_CUSTOMER = DEMO_SEED.customer
DEMO_ANSWERS = DEMO_SEED.answers


def _latest(outbox: Path, kind: str, reply_to: str) -> EmailMessage:
    """The contract's mail of that kind (the outbox holds every contract's mail: only the
    headers are read until the one wanted is found)."""
    box = mailbox.Maildir(outbox, create=False)
    headers = email.parser.BytesHeaderParser(policy=email.policy.default)
    found = None
    for key in box.iterkeys():
        with box.get_file(key) as f:
            head = headers.parse(f)  # type: ignore[arg-type]
        if head["X-Dpabot-Kind"] == kind and str(head["Reply-To"]) == reply_to:
            found = key
    if found is None:
        raise RuntimeError(f"the demo expected a '{kind}' mail in {outbox} and found none")
    msg = email.message_from_bytes(box.get_bytes(found), policy=email.policy.default)
    return msg  # type: ignore[return-value]


def customer_reply(
    original: EmailMessage, body: str, sender: str, name: str = "Karolien Piskor"
) -> bytes:
    """A reply as a mail client writes it: top-posted, the original quoted below."""
    reply = EmailMessage()
    reply["From"] = f"{name} <{sender}>"
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


async def run_demo(
    workdir: Path,
    database_url: str | None = None,
    seed: str = DEFAULT_SEED,
    *,
    warming: Future[None] | None = None,
) -> dict[str, Any]:
    """Invite, reply, finalize, accept, sign, archive for the seed's tenant and customer;
    returns the summary, with the configuration written for the commands after it.

    ``warming``: the render worker's warm-up (bot.jobs.cpu.warm), awaited before the first
    render so that the render goes to that worker."""
    redact.install()
    started = time.monotonic()
    demo = SEEDS[seed]
    settings = ServiceSettings(data_dir=workdir, database_url=database_url)
    if not (workdir / "pki").exists():
        print(
            f"dpabot: making a development PKI and timestamp authority under {workdir / 'pki'} "
            "(not trusted outside dpabot).",
            file=sys.stderr,
        )
    async with open_runtime(settings, [demo.tenant]) as rt:
        if warming is not None:
            await asyncio.wrap_future(warming)
        result = await _chain(rt, demo, started)
    result["seed"] = seed
    result["tenant"] = demo.tenant.slug
    result["config"] = str(write_config(workdir, demo.tenant))
    return result


async def run_chain(rt: Runtime, started: float, seed: str = DEFAULT_SEED) -> dict[str, Any]:
    """One contract through the whole chain on an open runtime (also used by bench/demo.py)."""
    return await _chain(rt, SEEDS[seed], started)


async def _chain(rt: Runtime, demo: DemoSeed, started: float) -> dict[str, Any]:
    slug, customer = demo.tenant.slug, demo.customer
    outbox, inbox = rt.maildir(slug, "outbox"), rt.maildir(slug, "inbox")
    customer_id = await contracts.add_customer(rt, slug, **customer)
    contract_id = await contracts.invite(rt, slug, customer_id)
    reply_to = await _reply_address(rt, slug, contract_id)
    await run_jobs_until_idle(rt)
    invitation = _latest(outbox, "invitation", reply_to)
    answers = customer_reply(invitation, demo.answers, customer["email"], demo.signer)
    _drop_in_inbox(inbox, answers)
    await poll_once(rt, slug)
    await run_jobs_until_idle(rt)
    final = _latest(outbox, "final", reply_to)
    accept = f"AKKOORD\n\n{demo.signer}"
    _drop_in_inbox(inbox, customer_reply(final, accept, customer["email"], demo.signer))
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
        "contract_id": contract_id,
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
