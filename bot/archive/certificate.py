"""The certificate of completion: every event of a contract in order, its signatures as the
signed PDF states them, and the validation summary; rendered (PDF/A-2b) and sealed with the
processor's key (PAdES B-LTA).

Issued when a contract is archived (bot.archive.store), again after a timestamp renewal, and
on demand (``dpabot archive certificate``). Its path and hashes are on the archive entry: it
cannot be in the manifest, whose hash it quotes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.runtime import Runtime
from bot.domain.fingerprint import message_ref
from bot.jobs import cpu
from signing import seal, validate_pdf
from signing.facts import signature_facts
from storage import audit
from storage.blobs import sha256_hex
from storage.models import ChangeRequest, ContractVersion, Message, Signature
from templates import load_manifest
from templates.certificate import (
    CertEvent,
    CertParty,
    CertSignature,
    certificate_document,
    render_certificate,
)

log = logging.getLogger(__name__)

__all__ = ["certificate_for", "issue_certificate", "order_events"]

_HOW = {
    "tenant_key": "how_key",
    "reply_acceptance": "how_reply",
    "chat_acceptance": "how_chat",
    "own_certificate": "how_own",
}
_FIELD_PARTY = {"Processor": "processor", "Customer": "customer"}
_MAIL_KINDS = ("invitation", "followup", "reminder", "change_decision", "final", "completed")
_OUTCOME_WORDS = ("applied", "followup_sent", "not_counted", "shunted")
# Events at the same instant keep this order (the order a contract lives).
_PHASE = {
    "ev_version": 0,
    "ev_change": 1,
    "ev_change_decided": 2,
    "ev_mail_out": 4,
    "ev_reply": 5,
    "ev_chat": 5,
    "ev_acceptance": 6,
    "ev_signature": 7,
    "ev_archived": 9,
    "ev_renewed": 10,
}


@dataclass(frozen=True)
class Archived:
    """The archive entry the certificate describes (known before its row is written)."""

    archive_id: str
    archived_at: dt.datetime
    pdf: bytes
    manifest_sha256: str
    validation: dict[str, Any] | None = None  # the archive's own report of ``pdf``, if at hand
    # Signature rows recorded in the same transaction as the entry (party, method, evidence).
    pending: tuple[dict[str, Any], ...] = ()


def _phase(event: CertEvent) -> int:
    if (event.key.startswith("ev_") and event.key[3:] in _MAIL_KINDS) or event.key == "ev_mail":
        return _PHASE["ev_mail_out"]
    if event.key == "ev_signature" and event.params.get("first") == "1":
        return 3  # the processor's certification goes out with the final mail, before it
    return _PHASE.get(event.key, 8)


def order_events(events: Sequence[CertEvent]) -> list[CertEvent]:
    """In time order (a signature no earlier than its cause); ties in the order a contract
    lives."""
    return sorted(events, key=lambda e: (e.order_at or e.at, _phase(e)))


def _message_events(
    messages: Sequence[Message], accepted_id: str | None, version: int
) -> list[CertEvent]:
    out = []
    for m in messages:
        if m.direction == "out":
            if m.outcome not in ("sent", "pending", "queued") or m.channel != "email":
                continue
            key = f"ev_{m.kind}" if m.kind in _MAIL_KINDS else "ev_mail"
            params = {"to": m.to_addr or "", "kind": m.kind, "version": str(m.version or "")}
            # When dpabot sent it (queued in the transaction that decided it).
            out.append(CertEvent(m.created_at, key, params))
            continue
        ref = message_ref(m.message_id or "")
        outcome = m.outcome if m.outcome in _OUTCOME_WORDS else ""
        params = {"sender": m.from_addr or "", "ref": ref, "outcome": m.outcome}
        key = "ev_chat" if m.channel == "telegram" else "ev_reply"
        out.append(CertEvent(m.created_at, key, params, {"outcome": outcome} if outcome else {}))
        if accepted_id is not None and m.message_id == accepted_id:
            how = "how_chat" if m.channel == "telegram" else "how_reply"
            out.append(
                CertEvent(
                    m.created_at,
                    "ev_acceptance",
                    {"version": str(version), "ref": ref},
                    {"how": how},
                )
            )
    return out


def _change_events(requests: Sequence[ChangeRequest]) -> list[CertEvent]:
    out = []
    for cr in requests:
        params = {"article": cr.article or "", "by": cr.decided_by or ""}
        article = {"article": "article"} if cr.article else {}
        out.append(CertEvent(cr.created_at, "ev_change", params, article))
        if cr.decided_at is not None and cr.status in ("approved", "countered", "rejected"):
            words = {**article, "status": cr.status}
            out.append(CertEvent(cr.decided_at, "ev_change_decided", params, words))
    return out


def _version_events(versions: Sequence[ContractVersion]) -> list[CertEvent]:
    return [
        CertEvent(v.created_at, "ev_version", {"n": str(v.number), "by": v.changed_by})
        for v in versions
    ]


def _acceptance_of(
    rows: Sequence[Signature], version: int, pending: Sequence[dict[str, Any]]
) -> tuple[str | None, dict[str, str]]:
    """The accepting reply's Message-ID and how each party signed (party → method)."""
    found = [(g.party, g.method, g.evidence or {}) for g in rows if g.version == version] + [
        (r["party"], r["method"], r.get("evidence") or {}) for r in pending
    ]
    accepted = None
    how = {}
    for party, method, evidence in found:
        how[party] = method
        if party == "customer" and method != "own_certificate":
            accepted = evidence.get("message_id")
    return accepted, how


async def issue_certificate(rt: Runtime, slug: str, contract_id: int, archived: Archived) -> bytes:
    """The sealed certificate of one contract archived as ``archived`` (nothing is stored)."""
    tenant = rt.tenant(slug)
    signing = rt.signing[slug]
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        contract = await repo.contract(contract_id)
        customer = await repo.customer(contract.customer_id)
        versions = await repo.versions(contract)
        messages = await repo.messages(contract)
        requests = await repo.change_requests(contract)
        rows = await repo.signatures(contract)
        renewals = await repo.audit_events("archive.renewed", archived.archive_id)
    manifest = load_manifest(contract.template_id)
    current = versions[-1]
    accepted_id, methods = _acceptance_of(rows, current.number, archived.pending)
    facts = signature_facts(archived.pdf)
    signatures = []
    events = [
        *_version_events(versions),
        *_change_events(requests),
        *_message_events(messages, accepted_id, current.number),
        CertEvent(archived.archived_at, "ev_archived", {"archive_id": archived.archive_id}),
        *(CertEvent(e.at, "ev_renewed") for e in renewals),
    ]
    # A signature's time is whole seconds: listed no earlier than what caused it (the version it
    # signs; the acceptance, for what follows it), it never comes before its cause.
    accepted_at = next((m.created_at for m in messages if m.message_id == accepted_id), None)
    first_signature = True
    for f in facts:
        party = _FIELD_PARTY.get(f.field, "")
        method = methods.get(party, "")
        signatures.append(
            CertSignature(
                field=f.field,
                kind=f.kind,
                party=party,
                how=_HOW.get(method, ""),
                subject=f.subject,
                issuer=f.issuer,
                serial=f.serial,
                signing_time=f.signing_time,
                tsa=f.tsa,
                tsa_time=f.tsa_time,
                ref=message_ref(accepted_id) if accepted_id and party == "customer" else "",
            )
        )
        when = f.signing_time or f.tsa_time
        if f.kind == "signature" and when is not None:
            first = "1" if first_signature and party == "processor" else ""
            cause = current.created_at if first or accepted_at is None else accepted_at
            params = {"signer": f.name, "party": f.field, "first": first}
            events.append(CertEvent(when, "ev_signature", params, order_at=max(when, cause)))
            first_signature = False
    report = dict(
        archived.validation or (await validate_pdf(archived.pdf, signing.all_roots)).to_dict()
    )
    report["checked_at"] = dt.datetime.now(dt.UTC).isoformat()
    fields = current.fields or {}
    parties = [
        CertParty(
            "processor",
            tenant.name,
            tenant.enterprise_number or "",
            tenant.representative,
            tenant.representative_function,
            tenant.mail.address,
        ),
        CertParty(
            "customer",
            customer.name,
            customer.enterprise_number or "",
            fields.get("customer_representative") or customer.representative,
            fields.get("customer_representative_function")
            or customer.representative_function
            or "",
            customer.email,
        ),
    ]
    label = f"{slug}-{contract.id}"
    document = certificate_document(
        manifest.language,
        contract_label=label,
        title=manifest.title,
        version=current.number,
        signed_sha256=sha256_hex(archived.pdf),
        final_sha256=current.pdf_sha256 or "",
        sent_sha256=current.sent_pdf_sha256 or "",
        archive_id=archived.archive_id,
        manifest_sha256=archived.manifest_sha256,
        parties=parties,
        events=order_events(events),
        signatures=signatures,
        validation=report,
        issuer=tenant.name,
    )
    now = dt.datetime.now(dt.UTC)
    unsigned = await cpu.in_thread_loop(_async(render_certificate, document, issued_at=now))
    return await cpu.in_thread_loop(
        lambda: seal(
            unsigned,
            signing.processor_signer,
            signing.tsa_urls,
            signing.all_roots,
            reason=f"Certificaat van voltooiing {label} ({archived.archive_id})",
            location=tenant.place or None,
        )
    )


def _async(fn: Any, *args: Any, **kwargs: Any) -> Any:
    async def run() -> Any:
        return fn(*args, **kwargs)

    return run


async def certificate_for(rt: Runtime, slug: str, entry_id: str, *, actor: str = "dpabot") -> bytes:
    """The certificate of one archive entry: the one archived if it describes the entry's
    current PDF, else a new one, archived beside the contract and recorded on the entry."""
    async with rt.db.transaction() as s:
        entry = await rt.repo(s, slug).archive_entry(entry_id)
        have = (entry.certificate_path, entry.certificate_pdf_sha256 == entry.pdf_sha256)
        path, contract_id = entry.path, entry.contract_id
        archived_at, manifest_sha = entry.created_at, entry.manifest_sha256 or ""
    if have[0] and have[1]:
        return await rt.archive.async_get(have[0], tenant=slug)
    pdf = await rt.archive.async_get(path, tenant=slug)
    cert = await issue_certificate(
        rt, slug, contract_id, Archived(entry_id, archived_at, pdf, manifest_sha)
    )
    locator = await rt.archive.async_put(slug, dt.datetime.now(dt.UTC).year, cert, ".pdf")
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        entry = await repo.archive_entry(entry_id)
        replaced = entry.certificate_path
        entry.certificate_path = locator
        entry.certificate_sha256 = sha256_hex(cert)
        entry.certificate_pdf_sha256 = sha256_hex(pdf)
        await audit.record(
            s,
            repo.tenant_id,
            actor,
            "archive.certificate_issued",
            entry_id,
            {
                "sha256": entry.certificate_sha256,
                "pdf_sha256": entry.certificate_pdf_sha256,
                "replaces": replaced,
            },
        )
    log.info("Issued the certificate of completion of %s (%s).", entry_id, slug)
    return cert
