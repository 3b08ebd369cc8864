"""From `dpabot verify`'s report to what the page says, in keys its texts are written for (pure).

The report is :meth:`signing.ValidationReport.to_dict`, the JSON of ``dpabot verify --json``:
the page's verdict is the command's (``ok``), and each signature's status is derived from the
same fields the command prints, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DocumentView", "SignatureView", "explain"]

# pyHanko's modification levels that a signer allows after signing: validation data and
# timestamps (LTA), filling in the form and the next signature, annotations.
_ALLOWED_LATER = {
    "LTA_UPDATES": "later_lta",
    "FORM_FILLING": "later_form",
    "ANNOTATIONS": "later_notes",
}


@dataclass
class SignatureView:
    field: str
    status: str  # valid | changed | changed_later | broken | untrusted | no_time | unreadable
    signer: str | None
    email: str | None
    time: str | None  # proven by a timestamp
    claimed_time: str | None  # what the signer's computer said
    time_proof: str | None
    certification: bool
    later: str | None  # key of the additions allowed after this signature, if any
    detail: str | None  # the validator's own words, for experts


@dataclass
class DocumentView:
    verdict: str  # valid | changed | not_valid | no_signature | a refusal key
    changed: bool = False
    signatures: list[SignatureView] = field(default_factory=list)
    timestamps: list[dict[str, Any]] = field(default_factory=list)


def _status(s: dict[str, Any]) -> str:
    if s["coverage"] is None and not s["intact"]:
        return "unreadable"
    if not s["intact"]:
        return "changed"
    if s["modification_level"] == "OTHER" or s["docmdp_ok"] is False:
        return "changed_later"
    if not s["valid"]:
        return "broken"
    if not s["trusted"]:
        return "untrusted"
    if not s["ok"]:
        return "no_time"
    return "valid"


def _signature(s: dict[str, Any]) -> SignatureView:
    status = _status(s)
    return SignatureView(
        field=s["field"],
        status=status,
        signer=s["signer_cn"],
        email=s["signer_email"],
        time=s["timestamp_time"],
        claimed_time=s["signing_time"],
        time_proof=s["time_proof"],
        certification=bool(s["certification"]),
        later=_ALLOWED_LATER.get(s["modification_level"] or "") if status == "valid" else None,
        detail=s["ades_message"],
    )


def explain(report: dict[str, Any]) -> DocumentView:
    """The page's view of one report."""
    signatures = [_signature(s) for s in report["signatures"]]
    changed = any(v.status in ("changed", "changed_later") for v in signatures)
    if report["ok"]:
        verdict = "valid"
    elif not signatures:
        verdict = "no_signature"
    elif changed:
        verdict = "changed"
    else:
        verdict = "not_valid"
    timestamps = [
        {"time": t["time"], "tsa": t["tsa_cn"], "ok": bool(t["intact"] and t["trusted"])}
        for t in report["document_timestamps"]
    ]
    return DocumentView(verdict, changed, signatures, timestamps)
