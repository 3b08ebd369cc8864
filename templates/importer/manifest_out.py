"""The manifest.toml and example.json of an imported template (pure)."""

from __future__ import annotations

import json
from typing import Any

from templates.importer.canonical import PARTY_IDS, specs
from templates.importer.items import FoundField

_DPO_IDS = ("dpo_name", "dpo_phone", "dpo_email")


def _s(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _table(d: dict[str, Any]) -> str:
    return "{ " + ", ".join(f"{k} = {_s(v)}" for k, v in d.items()) + " }"


def _field(fid: str, spec: dict[str, Any], **extra: Any) -> list[str]:
    lines = [f"[fields.{fid}]", f"type = {_s(spec.get('type', 'text'))}"]
    for key, value in extra.items():
        lines.append(f"{key} = {_s(value)}")
    lines.append(f"labels = {_table(spec['labels'])}")
    if spec.get("aliases"):
        lines.append(f"aliases = {_table(spec['aliases'])}")
    lines.append(f"question = {_table(spec['question'])}")
    return [*lines, ""]


def manifest_toml(
    template_id: str,
    title: str,
    lang: str,
    tenant: dict[str, str],
    fields: list[FoundField],
    source_name: str,
) -> str:
    """The manifest: canonical party fields, then the annex fields in the document's order."""
    canon = specs()
    out = [
        f"# Imported by `dpabot template import` from {source_name}.",
        f"id = {_s(template_id)}",
        f"title = {_s(title or template_id)}",
        f"language = {_s(lang)}",
        'document = "dpa.typ"',
        'languages = ["nl", "fr", "en"]',
        "",
        "[tenant]",
        *[
            f"{k} = {_s(tenant.get(k, ''))}"
            for k in (
                "name",
                "enterprise_number",
                "representative",
                "representative_function",
                "place",
            )
        ],
        "",
    ]
    for fid in PARTY_IDS:
        required = fid in ("customer_name", "customer_representative")
        out += _field(fid, canon[fid], required=required)
    for number, f in enumerate(fields, start=1):
        if f.canonical:
            spec = dict(canon[f.id])
            aliases = {k: list(v) for k, v in spec.get("aliases", {}).items()}
            own = f.label.lower()
            if own not in aliases.get(lang, []):
                aliases.setdefault(lang, []).append(own)
            spec["aliases"] = aliases
        else:
            spec = {
                "type": "text",
                "labels": {lang: f.label},
                "aliases": {lang: [f.label.lower()]},
                "question": {lang: f.label.rstrip("?:. ") + "?"},
            }
        extra: dict[str, Any] = {"required": f.id not in _DPO_IDS and f.canonical,
                                 "annex": True, "number": number}  # fmt: skip
        if f.default:
            extra["default"] = f.default
        out += _field(f.id, spec, **extra)
    return "\n".join(out)


def example_json(tenant: dict[str, str], customer: dict[str, str], fields: list[FoundField]) -> str:
    """Data that renders the template as the source document read."""
    values = {k: v for k, v in customer.items() if v}
    values.update({f.id: f.default for f in fields if f.default})
    data = {
        "processor": {k: v for k, v in tenant.items() if v},
        "fields": values,
        "version": 1,
        "draft": False,
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
