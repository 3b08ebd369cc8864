"""Drafts of a bulk send: one Typst render shared by every customer of a tenant, template and
text version, each customer's values stamped into it (templates/_stamps.py)."""

from __future__ import annotations

from typing import Any

from templates import _pdf_forms, _stamps
from templates._stamps import SharedDraft
from templates.documents import (
    FORM_FONT,
    _compile,
    _with_form_fields,
    check_fields,
    load_manifest,
    prepare_data,
)

__all__ = ["STAMP_WIDTHS", "SharedDraft", "render_shared_draft", "stamp_draft"]


# The width (pt) of a stamped value's box in a shared draft; a value too long for it even at
# the smallest size is rendered whole for that customer instead.
STAMP_WIDTHS = {
    "customer_name": 170,
    "customer_enterprise_number": 80,
    "customer_address": 210,
    "customer_representative": 140,
    "customer_representative_function": 110,
    "customer_email": 170,
}


def render_shared_draft(template_id: str, data: dict[str, Any], keys: list[str]) -> SharedDraft:
    """The draft of `data` with a box wherever one of `keys` (field ids) is printed: the
    document every customer with values in exactly those fields shares; stamp_draft writes one
    customer's values into it."""
    manifest = load_manifest(template_id)
    doc = prepare_data(template_id, data, draft=True)
    check_fields(template_id, dict.fromkeys(keys, ""))  # known fields of this template
    keys = sorted(keys)
    for key in keys:
        doc["fields"][key] = _stamps.PLACEHOLDER.format(key)
    doc["stamps"] = {k: STAMP_WIDTHS.get(k, 150) for k in keys}
    pdf, (fields, found) = _compile(
        template_id, doc, draft=True, selectors=("<formfield>", "<stamp>")
    )
    pdf = _with_form_fields(manifest, pdf, fields, doc["fields"])
    boxes = [
        _stamps.StampBox(**{k: b[k] for k in ("key", "page", "x", "y", "w", "size")}) for b in found
    ]
    font = _pdf_forms.load_form_font(FORM_FONT)
    return _stamps.prepare(pdf, boxes, font, keys)


def stamp_draft(shared: SharedDraft, template_id: str, values: dict[str, str]) -> bytes | None:
    """One customer's draft from the shared one (values checked as render_pdf checks them);
    None when a value cannot be stamped (render that customer's draft whole)."""
    check_fields(template_id, values)
    return _stamps.stamp(shared, {k: v.strip() for k, v in values.items()})
