"""Contract data for documents and mails: manifest questions and field values (pure)."""

from __future__ import annotations

from typing import Any

from bot.core.settings import TenantSettings
from handlers.reader.interpret import AnnexField
from templates import annex_questions, load_manifest

PARTY_FIELDS = (
    "customer_name",
    "customer_enterprise_number",
    "customer_representative",
    "customer_representative_function",
    "customer_email",
    "customer_address",
)


def annex_fields(template_id: str) -> list[AnnexField]:
    """The invitation's numbered questions, with every label and alias in every language."""
    out = []
    for f in load_manifest(template_id).annex_fields:
        labels = [*f.labels.values()]
        for aliases in f.aliases.values():
            labels.extend(aliases)
        out.append(
            AnnexField(
                id=f.id,
                number=int(f.number or 0),
                labels=tuple(labels),
                default=f.default or "",
                type=f.type,
                required=f.required,
            )
        )
    return out


def questions(template_id: str, lang: str, values: dict[str, str]) -> list[dict[str, Any]]:
    """Numbered questions with the value agreed so far, or else the proposal (default)."""
    proposals = {a.id: a.default for a in annex_fields(template_id)}
    return annex_questions(
        template_id, {**proposals, **{k: v for k, v in values.items() if v}}, lang
    )


def label(template_id: str, field_id: str, lang: str) -> str:
    spec = load_manifest(template_id).fields.get(field_id)
    return spec.label(lang) if spec else field_id


def document_data(
    tenant: TenantSettings,
    fields: dict[str, str],
    *,
    version: int,
    draft: bool,
    amendments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The JSON a document template receives through sys.inputs."""
    values = dict(fields)
    if draft:
        # The draft shows the proposals in its form fields, for the customer to correct.
        for a in annex_fields(tenant.template):
            values.setdefault(a.id, a.default)
    return {
        "processor": {
            "name": tenant.name,
            "enterprise_number": tenant.enterprise_number or "",
            "representative": tenant.representative,
            "representative_function": tenant.representative_function,
            "place": tenant.place,
        },
        "fields": values,
        "version": version,
        "draft": draft,
        # Approved wording for this contract: the template prints it and marks the articles.
        "amendments": [
            {k: a.get(k, "") for k in ("article", "title", "text")} for a in amendments or []
        ],
    }
