"""Document (Typst) and email (Jinja2) templates of dpabot: the public API."""

from templates.documents import (
    SIGNATURE_FIELDS,
    FieldSpec,
    Manifest,
    TemplateError,
    list_templates,
    load_manifest,
    prepare_data,
    read_form_fields,
    render_pdf,
    unprintable,
)
from templates.emails import (
    EMAIL_KINDS,
    RenderedEmail,
    annex_questions,
    email_languages,
    render_email,
)

__all__ = [
    "EMAIL_KINDS",
    "SIGNATURE_FIELDS",
    "FieldSpec",
    "Manifest",
    "RenderedEmail",
    "TemplateError",
    "annex_questions",
    "email_languages",
    "list_templates",
    "load_manifest",
    "prepare_data",
    "read_form_fields",
    "render_email",
    "render_pdf",
    "unprintable",
]
