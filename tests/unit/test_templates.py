"""Unit tests of the template layer: manifests, data checks and email rendering (no PDF work)."""

from __future__ import annotations

import pytest

from templates import (
    EMAIL_KINDS,
    TemplateError,
    annex_questions,
    list_templates,
    load_manifest,
    prepare_data,
    render_email,
)

CANONICAL = {
    "customer_name",
    "customer_enterprise_number",
    "customer_address",
    "customer_representative",
    "customer_representative_function",
    "customer_email",
    "subject",
    "duration",
    "nature_purpose",
    "data_types",
    "data_subjects",
    "dpo_name",
    "dpo_phone",
    "dpo_email",
    "place",
    "sign_date",
}
ANNEX_ORDER = ["subject", "duration", "nature_purpose", "data_types", "data_subjects"]
COMMON = {
    "tenant_name": "iBeauty BVBA",
    "customer_name": "MOOI Schoonheidsverzorging",
    "representative": "Karolien Piskor",
    "contract_ref": "DPA-42",
}


def _data(**fields: str) -> dict:
    base = {
        "customer_name": "MOOI Schoonheidsverzorging",
        "customer_enterprise_number": "BE0840.465.705",
        "customer_representative": "Karolien Piskor",
    }
    return {"processor": {"name": "iBeauty BVBA"}, "fields": {**base, **fields}, "version": 1}


# ------------------------------------------------------------------ manifests


def test_ibeauty_is_listed() -> None:
    assert "ibeauty" in list_templates()


def test_manifest_loads_with_labels_and_aliases_in_three_languages() -> None:
    m = load_manifest("ibeauty")
    assert m.id == "ibeauty" and m.language == "nl"
    assert m.tenant["name"] == "iBeauty BVBA"
    for fid, spec in m.fields.items():
        assert spec.id == fid
        assert fid in CANONICAL or fid.startswith("ibeauty_"), fid
        for lang in ("nl", "fr", "en"):
            assert spec.labels.get(lang), (fid, lang)
            assert spec.aliases.get(lang), (fid, lang)
            assert spec.question.get(lang), (fid, lang)


def test_annex_fields_numbered_one_to_five_with_defaults() -> None:
    m = load_manifest("ibeauty")
    annex = m.annex_fields
    assert [f.id for f in annex] == ANNEX_ORDER
    assert [f.number for f in annex] == [1, 2, 3, 4, 5]
    assert all(f.required and f.default for f in annex)
    assert annex[0].labels["nl"] == "Onderwerp van de verwerking"
    assert annex[4].labels["nl"] == "Categorieën van betrokkenen bij de verwerker"
    assert not any(f.annex for f in m.fields.values() if f.id not in ANNEX_ORDER)


def test_field_types() -> None:
    m = load_manifest("ibeauty")
    assert m.fields["customer_enterprise_number"].type == "enterprise_number"
    assert m.fields["customer_email"].type == "email"
    assert m.fields["sign_date"].type == "date"


def test_unknown_template_names_it() -> None:
    with pytest.raises(TemplateError, match="nosuchtemplate"):
        load_manifest("nosuchtemplate")
    with pytest.raises(TemplateError, match=r"\.\./etc"):
        load_manifest("../etc")


# ------------------------------------------------------------------ document data


def test_prepare_data_fills_processor_defaults_and_drops_empty_values() -> None:
    doc = prepare_data("ibeauty", _data(customer_address="", subject=None), draft=True)  # type: ignore[arg-type]
    assert doc["processor"]["enterprise_number"] == "BE0662.785.756"
    assert doc["processor"]["representative"] == "Michel Smekens"
    assert "customer_address" not in doc["fields"] and "subject" not in doc["fields"]
    assert doc["draft"] is True and doc["version"] == 1


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"customer_enterprise_number": "BE0840.465.706"}, "customer_enterprise_number"),
        ({"customer_email": "not-an-address"}, "customer_email"),
        ({"sign_date": "31/12/2024"}, "sign_date"),
        ({"favourite_colour": "red"}, "favourite_colour"),
        ({"subject": 12}, "subject"),
    ],
)
def test_invalid_data_names_the_field(fields: dict, needle: str) -> None:
    with pytest.raises(TemplateError, match=needle):
        prepare_data("ibeauty", _data(**fields), draft=True)


def test_final_requires_annex_answers() -> None:
    prepare_data("ibeauty", _data(), draft=True)  # a draft may be incomplete
    with pytest.raises(TemplateError, match="subject"):
        prepare_data("ibeauty", _data(), draft=False)


def test_enterprise_numbers() -> None:
    for ok in ("BE0840.465.705", "0662785756", "BE 0662 785 756", "NL123456789B01"):
        prepare_data("ibeauty", _data(customer_enterprise_number=ok), draft=True)


# ------------------------------------------------------------------ emails


def _questions(**override: str) -> list[dict]:
    values = {**load_manifest("ibeauty").defaults(), **override}
    return annex_questions("ibeauty", values, "nl")


def test_invitation_lists_five_numbered_questions_with_values() -> None:
    qs = _questions()
    mail = render_email("invitation", "nl", {**COMMON, "questions": qs})
    assert "Karolien Piskor" in mail.text and "iBeauty BVBA" in mail.subject
    assert "[DPA-42]" in mail.subject and "\n" not in mail.subject
    positions = []
    for q in qs:
        line = f"{q['number']}. {q['label']}"
        assert line in mail.text, line
        assert q["value"] and q["value"] in mail.text
        assert q["value"] in mail.html
        positions.append(mail.text.index(line))
    assert positions == sorted(positions)
    assert "3: " in mail.text  # shows how to answer by number
    assert "PDF" in mail.text and "bijlage" in mail.text.lower()


def test_html_is_escaped_text_is_literal() -> None:
    qs = _questions(nature_purpose="<script>alert('x')</script> & co")
    mail = render_email("invitation", "nl", {**COMMON, "customer_name": "A&B <b>", "questions": qs})
    assert "<script>alert('x')</script> & co" in mail.text
    assert "<script>" not in mail.html
    assert "&lt;script&gt;" in mail.html and "&amp; co" in mail.html
    assert "A&amp;B &lt;b&gt;" in mail.html


def test_subject_stays_one_line() -> None:
    mail = render_email(
        "invitation", "nl", {**COMMON, "customer_name": "Evil\r\nBcc: x@y", "questions": []}
    )
    assert "\n" not in mail.subject and "\r" not in mail.subject


def test_followup_names_missing_and_invalid_by_number() -> None:
    mail = render_email(
        "followup",
        "nl",
        {
            **COMMON,
            "missing": [{"number": 2, "label": "Duur van de verwerking"}, "Ondernemingsnummer"],
            "invalid": [
                {
                    "number": 4,
                    "label": "Soort persoonsgegevens die worden verwerkt",
                    "reason": "het antwoord is leeg",
                    "value": "<x>",
                }
            ],
        },
    )
    assert "2. Duur van de verwerking" in mail.text
    assert "- Ondernemingsnummer" in mail.text
    assert "4. Soort persoonsgegevens die worden verwerkt: het antwoord is leeg" in mail.text
    assert "2: …" in mail.text
    assert "&lt;x&gt;" in mail.html and "<x>" in mail.text


def test_final_and_completed_show_hash() -> None:
    sha = "0123456789abcdef" * 4
    final = render_email(
        "final", "nl", {**COMMON, "sha256": sha, "version": 1, "fingerprint": "0123-4567-89AB"}
    )
    assert "AKKOORD" in final.text and "AKKOORD" in final.html
    assert sha in final.text and sha in final.html
    assert "ondertekend" in final.text
    done = render_email("completed", "nl", {**COMMON, "sha256": sha})
    assert sha in done.text and "Bedankt" in done.text


def test_every_kind_renders_in_every_language() -> None:
    ctx = {
        **COMMON,
        "awaiting_signature": False,
        "questions": _questions(),
        "missing": ["x"],
        "invalid": [],
        "sha256": "ab" * 32,
        "version": 1,
        "fingerprint": "ABAB-ABAB-ABAB",
        "decisions": [
            {"article": "5", "title": "", "status": "approved", "request": "x", "text": "y"}
        ],
        "finalizing": True,
        "changed": False,
        "pending": False,
        "code": "042917",
        "minutes": 10,
    }
    for kind in EMAIL_KINDS:
        for lang in ("nl", "fr", "en"):
            mail = render_email(kind, lang, ctx)
            assert mail.subject and mail.text.strip() and "<html" in mail.html


def test_email_errors_are_plain_sentences() -> None:
    with pytest.raises(TemplateError, match="'sha256'"):
        render_email("final", "nl", COMMON)
    with pytest.raises(TemplateError, match="'nope'"):
        render_email("nope", "nl", COMMON)
    with pytest.raises(TemplateError, match="'de'"):
        render_email("final", "de", {**COMMON, "sha256": "x", "version": 1, "fingerprint": "x"})
    with pytest.raises(TemplateError, match="invitation"):
        render_email("invitation", "nl", {**COMMON, "questions": [{"label": "x", "value": "y"}]})
