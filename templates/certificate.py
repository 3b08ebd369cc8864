"""The certificate of completion: its content in the contract's language, rendered by Typst
to PDF/A-2b. Pure but for the render; the facts come from bot.archive.certificate."""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typst

from templates._certificate_words import words
from templates.documents import FONTS_DIR, TemplateError

__all__ = ["CertEvent", "CertParty", "CertSignature", "certificate_document", "render_certificate"]

CERTIFICATE_TYP = Path(__file__).parent / "documents" / "_certificate" / "certificate.typ"
BRUSSELS = ZoneInfo("Europe/Brussels")


@dataclass(frozen=True)
class CertEvent:
    """One event: ``key`` names its sentence (``ev_…``); ``params`` are values printed as
    given, ``word_params`` name words of the certificate's language."""

    at: dt.datetime
    key: str
    params: dict[str, str] = field(default_factory=dict)
    word_params: dict[str, str] = field(default_factory=dict)
    order_at: dt.datetime | None = None  # where it is listed, if not at ``at``


@dataclass(frozen=True)
class CertParty:
    role: str  # "processor" | "customer"
    name: str
    enterprise_number: str
    representative: str
    function: str
    email: str


@dataclass(frozen=True)
class CertSignature:
    """One signature or document timestamp (signing.facts' fields) and how it was given."""

    field: str
    kind: str
    party: str  # "processor" | "customer" | "" (a document timestamp)
    how: str  # a word key: how_key, how_reply, how_chat, how_own; "" for a timestamp
    subject: str
    issuer: str
    serial: str
    signing_time: dt.datetime | None
    tsa: str
    tsa_time: dt.datetime | None
    ref: str = ""  # the accepting reply's Message-ID hash


def _when(at: dt.datetime | None) -> str:
    if at is None:
        return "–"
    local = at.astimezone(BRUSSELS)
    return f"{local:%d/%m/%Y %H:%M:%S} (Europe/Brussels) – {at.astimezone(dt.UTC):%H:%M:%S} UTC"


def _event_text(w: dict[str, str], event: CertEvent) -> str:
    params = dict(event.params)
    for key, word in event.word_params.items():
        params[key] = w.get(word, word).format(**event.params)
    return w[event.key].format(**params)


def certificate_document(
    lang: str,
    *,
    contract_label: str,
    title: str,
    version: int,
    signed_sha256: str,
    final_sha256: str,
    sent_sha256: str,
    archive_id: str,
    manifest_sha256: str,
    parties: list[CertParty],
    events: list[CertEvent],
    signatures: list[CertSignature],
    validation: dict[str, Any],
    issuer: str,
) -> dict[str, Any]:
    """The JSON the Typst certificate prints: every word and value as text."""
    w = words(lang)
    document = [
        (w["doc_title"], title),
        (w["contract"], contract_label),
        (w["version"], str(version)),
        (w["signed_sha256"], signed_sha256),
        (w["final_sha256"], final_sha256 or "–"),
    ]
    if sent_sha256 and sent_sha256 != final_sha256:
        document.append((w["sent_sha256"], sent_sha256))
    document += [(w["archive_id"], archive_id), (w["manifest_sha256"], manifest_sha256 or "–")]
    party_rows = [
        {
            "role": w[p.role],
            "rows": [
                (w[k], v)
                for k, v in (
                    ("name", p.name),
                    ("enterprise_number", p.enterprise_number),
                    ("representative", p.representative),
                    ("function", p.function),
                    ("email", p.email),
                )
                if v
            ],
        }
        for p in parties
    ]
    event_rows = []
    for e in events:
        local = e.at.astimezone(BRUSSELS)
        event_rows.append(
            {
                "local": f"{local:%d/%m/%Y %H:%M:%S}",
                "utc": f"{e.at.astimezone(dt.UTC):%H:%M:%S}",
                "text": _event_text(w, e),
            }
        )
    sig_rows = []
    for s in signatures:
        if s.kind == "document_timestamp":
            heading = f"{w['archive_timestamp']} ({s.field})"
            rows = [(w["tsa"], s.tsa), (w["serial"], s.serial), (w["tsa_time"], _when(s.tsa_time))]
        else:
            heading = f"{w[s.party] if s.party in w else s.field} ({s.field})"
            rows = [
                (w["subject"], s.subject),
                (w["issuer"], s.issuer),
                (w["serial"], s.serial),
                (w["signing_time"], _when(s.signing_time)),
                (w["tsa"], s.tsa or "–"),
                (w["tsa_time"], _when(s.tsa_time)),
            ]
            if s.how:
                rows.append((w["method"], w[s.how].format(ref=s.ref)))
        sig_rows.append({"heading": heading, "rows": rows})
    ok = bool(validation.get("ok"))
    val_rows = []
    for r in validation.get("signatures", []):
        val_rows.append(
            (
                str(r.get("field")),
                f"{r.get('ades_status') or ''} {w['trust']}: "
                f"{w['yes'] if r.get('trusted') else w['no']}".strip(),
            )
        )
    for t in validation.get("document_timestamps", []):
        val_rows.append(
            (str(t.get("field")), f"{w['trust']}: {w['yes'] if t.get('trusted') else w['no']}")
        )
    if validation.get("error"):
        val_rows.append(("!", str(validation["error"])))
    if validation.get("checked_at"):
        val_rows.append(
            (w["checked_at"], _when(dt.datetime.fromisoformat(validation["checked_at"])))
        )
    return {
        "lang": lang if lang in ("nl", "fr", "en") else "nl",
        "words": w,
        "title": w["title"],
        "subtitle": w["subtitle"].format(contract=contract_label),
        "issuer": issuer,
        "footer": w["footer"].format(contract=contract_label),
        "document": document,
        "parties": party_rows,
        "events": event_rows,
        "signatures": sig_rows,
        "verdict": w["verdict_ok"] if ok else w["verdict_bad"],
        "validation": val_rows,
        "note": w["note"].format(issuer=issuer),
    }


class _Compiler:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.compiler = typst.Compiler(
            str(CERTIFICATE_TYP),
            root=str(CERTIFICATE_TYP.parent),
            font_paths=[str(FONTS_DIR)],
            ignore_system_fonts=True,
        )


@cache
def _compiler() -> _Compiler:
    return _Compiler()


def render_certificate(document: dict[str, Any], *, issued_at: dt.datetime) -> bytes:
    """The certificate as PDF/A-2b (unsigned)."""
    compiled = _compiler()
    try:
        with compiled.lock:
            pdf = compiled.compiler.compile(
                format="pdf",
                sys_inputs={"data": json.dumps(document, ensure_ascii=False)},
                timestamp=issued_at.replace(microsecond=0),
                pdf_standards=["a-2b"],
            )
    except typst.TypstError as exc:
        raise TemplateError(
            f"The certificate of completion failed to render: {exc.message}."
        ) from exc
    assert isinstance(pdf, bytes)
    return pdf
