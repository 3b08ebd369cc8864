"""Email templates (Jinja2): subject, plain text and HTML of each mail dpabot sends.

Templates live in ``templates/emails/<lang>/<kind>.{subject,txt,html}.j2``, one folder per
language in SUPPORTED_LANGUAGES (nl, fr, en); the customer's language chooses the mail, the
attached contract stays in its template's language. Add a language by adding it to
SUPPORTED_LANGUAGES and a folder with the same files. HTML is autoescaped, text and subject are
not; undefined variables raise (StrictUndefined). Context keys, by kind (all values are str
unless noted; ``number`` is an int, or None for a field that is not a Bijlage 1 question):

every kind
    tenant_name        processor's name (iBeauty BVBA), signs the mail
    customer_name      customer's company name
    representative     the customer's representative, greeted by name
    contract_ref       short contract reference shown in the subject ("" to leave it out)
    contract_language  optional: the contract's language (manifest ``language``); when it is not
                       the mail's language, invitation, reminder and final say so
invitation
    questions          list of {number, label, value, question?}: the Bijlage 1 questions in order,
                       value = the prefilled answer ("" when none); see ``annex_questions``
followup
    missing            list of {number?, label} (or bare labels): required answers still empty
    invalid            list of {number?, label, reason, value?}: unusable answers, and why
    read               optional, list of {number, label, value}: what was read in the reply,
                       said back so a misread is caught before signing
    uncertain          optional, list of {number, label, value}: read too uncertainly to fill
                       in; the customer is asked whether that is what they meant
reminder
    questions          as for invitation, value = the answer so far or else the proposal
    awaiting_signature bool: the final version went out and waits for the acceptance word; the
                       mail then asks for AKKOORD / D'ACCORD / I AGREE instead of answers
    missing            optional, as for followup: those questions are marked as still open
confirmation
    questions          as for invitation, value = the answer as recorded: the mail lists them and
                       says the final version to sign comes next
final
    sha256             hex SHA-256 of the final PDF attached (already signed by the processor)
    version            int: the contract version attached
    fingerprint        the short fingerprint of that PDF (bot.final_mail.fingerprint): an
                       acceptance that does not thread under this mail must quote it
    notice             optional: why the final version is sent again (an acceptance that did
                       not name the current version)
    questions          optional, as for invitation: the agreed values, said back in the mail
completed
    sha256             hex SHA-256 of the signed PDF attached
change_decision
    decisions          list of {article, title, status (approved|countered|rejected), request (the
                       customer's words), text (the wording now in force, or the reason)}
    finalizing         bool: the final version follows in its own mail
    changed            bool: a new version with the changes marked is attached
    pending            bool: other change requests of the customer are still open
    missing            as for followup: answers still needed
chat_code
    code               the 6-digit code that binds a Telegram chat to the contract
    minutes            int: how long the code is valid
invitation (optional)
    chat_link          the tenant bot's deep link for this contract ("" or absent: no chat)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, UndefinedError

from templates.documents import TemplateError, load_manifest

__all__ = [
    "ACCEPTANCE_WORDS",
    "EMAIL_KINDS",
    "SUPPORTED_LANGUAGES",
    "RenderedEmail",
    "annex_questions",
    "email_languages",
    "render_email",
]

EMAILS_DIR = Path(__file__).parent / "emails"
# Languages dpabot writes mails in; each has its own folder (a missing file is a TemplateError).
SUPPORTED_LANGUAGES = ("nl", "fr", "en")
# Word the customer replies with to sign, by language (the mail asks for it; interpret reads it).
ACCEPTANCE_WORDS = {"nl": "AKKOORD", "fr": "D'ACCORD", "en": "I AGREE"}
COMMON_KEYS = ("tenant_name", "customer_name", "representative", "contract_ref")
EMAIL_KINDS: dict[str, tuple[str, ...]] = {
    "invitation": ("questions",),
    "followup": ("missing", "invalid"),
    "reminder": ("questions", "awaiting_signature"),
    "confirmation": ("questions",),
    "final": ("sha256", "version", "fingerprint"),
    "completed": ("sha256",),
    "change_decision": ("decisions", "finalizing", "changed", "pending", "missing"),
    "chat_code": ("code", "minutes"),
}


@dataclass(frozen=True)
class RenderedEmail:
    """A rendered mail: one-line subject, plain-text body and HTML body."""

    subject: str
    text: str
    html: str


@cache
def _environment(html: bool) -> Environment:
    return Environment(
        loader=FileSystemLoader(str(EMAILS_DIR)),
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The packaged templates do not change while dpabot runs: no stat() of each template
        # file for every mail rendered.
        auto_reload=False,
    )


def email_languages() -> list[str]:
    """Languages that have their own email templates."""
    return sorted(p.name for p in EMAILS_DIR.iterdir() if p.is_dir() and not p.name.startswith("_"))


def annex_questions(template_id: str, values: Mapping[str, str], lang: str) -> list[dict[str, Any]]:
    """The `questions` context: Bijlage 1 fields numbered, labelled in `lang`, with their values."""
    manifest = load_manifest(template_id)
    return [
        {
            "number": spec.number,
            "label": spec.label(lang),
            "question": spec.question.get(lang) or spec.question.get(manifest.language, ""),
            "value": values.get(spec.id) or "",
        }
        for spec in manifest.annex_fields
    ]


DEFAULT_ANNEX_NAME = {"nl": "bijlage 1", "fr": "l'annexe 1", "en": "annex 1"}


def render_email(kind: str, lang: str, context: dict[str, Any]) -> RenderedEmail:
    """Render one mail; raises TemplateError naming an unknown kind/language or a missing key."""
    if kind not in EMAIL_KINDS:
        raise TemplateError(f"Unknown email kind '{kind}'; use one of {', '.join(EMAIL_KINDS)}.")
    # "fr-BE", "FR" → "fr"; anything else (a path, "de") is refused, never guessed.
    code = str(lang or "").strip().lower().replace("_", "-").partition("-")[0]
    if code not in SUPPORTED_LANGUAGES:
        raise TemplateError(
            f"Unknown email language '{lang}'; use one of {', '.join(SUPPORTED_LANGUAGES)}."
        )
    lang = code
    for key in COMMON_KEYS + EMAIL_KINDS[kind]:
        if key not in context:
            raise TemplateError(f"The '{kind}' email needs the context key '{key}'.")
    # How the mail names the annex with the questions: the template's own name when the caller
    # passes one (`annex`, from the manifest), else the usual "Bijlage 1".
    ctx = {"annex": DEFAULT_ANNEX_NAME[lang], **context, "lang": lang}
    for key in ("missing", "invalid"):  # a bare label, or no number, for an unnumbered field
        if key in ctx:
            ctx[key] = [
                {"number": None, "label": i} if isinstance(i, str) else {"number": None, **i}
                for i in ctx[key]
            ]
    try:
        subject = _environment(False).get_template(f"{lang}/{kind}.subject.j2").render(ctx)
        text = _environment(False).get_template(f"{lang}/{kind}.txt.j2").render(ctx)
        html = _environment(True).get_template(f"{lang}/{kind}.html.j2").render(ctx)
    except TemplateNotFound as exc:
        raise TemplateError(f"The email template '{exc.name}' is missing.") from exc
    except UndefinedError as exc:
        raise TemplateError(f"The '{kind}' email could not be rendered: {exc.message}.") from exc
    # One line, no control characters: a value can never add a mail header.
    subject = re.sub(r"\s+", " ", subject).strip()
    return RenderedEmail(subject=subject, text=text, html=html)
