"""Chat texts (Jinja2, plain text): staff ``templates/chat/staff/<lang>/<name>.txt.j2``,
customers ``templates/chat/customer/<lang>/<name>.txt.j2``.

The bot sends plain text (no parse mode), so nothing a customer wrote can turn into markup;
templates are therefore not autoescaped. Undefined variables raise (StrictUndefined).
Staff texts come in Dutch, French and English (the same file set in each language); durations
and contract states are worded in the text's language by the ``age`` and ``state`` filters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, pass_context
from jinja2.runtime import Context

from handlers.text.lang import fold

CHAT_DIR = Path(__file__).parent / "chat"
STAFF_LANGUAGES = ("nl", "fr", "en")
CUSTOMER_LANGUAGES = ("nl", "fr", "en")

_UNITS = {"nl": ("d", "u"), "fr": ("j", "h"), "en": ("d", "h")}

# Contract states as staff read them (English keeps the state's own name).
STATE_NAMES: dict[str, dict[str, str]] = {
    "draft": {"nl": "ontwerp", "fr": "brouillon"},
    "invited": {"nl": "uitgenodigd", "fr": "invité"},
    "collecting": {"nl": "gegevens gevraagd", "fr": "données demandées"},
    "negotiating": {"nl": "in onderhandeling", "fr": "en négociation"},
    "awaiting_signature": {"nl": "wacht op handtekening", "fr": "en attente de signature"},
    "customer_signed": {"nl": "getekend door klant", "fr": "signé par le client"},
    "completed": {"nl": "afgerond", "fr": "terminé"},
    "declined": {"nl": "geweigerd", "fr": "refusé"},
    "expired": {"nl": "verlopen", "fr": "expiré"},
    "bounced": {"nl": "onbestelbaar", "fr": "non distribuable"},
    "cancelled": {"nl": "geannuleerd", "fr": "annulé"},
}


def staff_language(lang: str | None) -> str:
    """A language staff texts exist in (English for anything else)."""
    return lang if lang in STAFF_LANGUAGES else "en"


def age(delta: dt.timedelta, lang: str = "en") -> str:
    """A duration staff read at a glance: 3 d 4 h (nl 3 d 4 u, fr 3 j 4 h), 5 h 10 min, 2 min."""
    day, hour = _UNITS[staff_language(lang)]
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} {day} {hours} {hour}"
    if hours:
        return f"{hours} {hour} {mins} min"
    return f"{mins} min"


def state_name(state: str, lang: str = "en") -> str:
    """A contract state in the staff member's language (unknown states as they are)."""
    return STATE_NAMES.get(state, {}).get(staff_language(lang), state)


def parse_state(text: str) -> str | None:
    """The contract state a staff member named, in any staff language, accents optional
    ("afgerond", "termine", "awaiting signature"); None if the text names none."""
    wanted = " ".join(fold(text).replace("_", " ").split())
    for state, names in STATE_NAMES.items():
        for name in (state, *names.values()):
            if wanted == " ".join(fold(name).replace("_", " ").split()):
                return state
    return None


@pass_context
def _age_filter(ctx: Context, delta: dt.timedelta) -> str:
    return age(delta, ctx.get("lang", "en"))


@pass_context
def _state_filter(ctx: Context, state: str) -> str:
    return state_name(state, ctx.get("lang", "en"))


@cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(CHAT_DIR),
        undefined=StrictUndefined,
        autoescape=False,  # plain text to Telegram: no parse mode, nothing to escape
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["age"] = _age_filter
    env.filters["state"] = _state_filter
    return env


def render_chat(template: str, /, **context: Any) -> str:
    """The text of ``templates/chat/<template>.txt.j2`` with the context."""
    return _env().get_template(f"{template}.txt.j2").render(**context).strip("\n")


def staff_templates(lang: str) -> set[str]:
    """The names of the staff texts in one language (each language has the same set)."""
    return {p.name.removesuffix(".txt.j2") for p in (CHAT_DIR / "staff" / lang).glob("*.txt.j2")}


def render_staff(template: str, lang: str, /, **context: Any) -> str:
    """A staff chat text: ``templates/chat/staff/<lang>/<template>.txt.j2`` (English when the
    language is not one dpabot writes)."""
    lang = staff_language(lang)
    return render_chat(f"staff/{lang}/{template}", lang=lang, **context)


# Staff notices: the template that words each kind (kept mail of one kind shares one).
KEPT_KINDS = (
    "rejected_sender",
    "unknown_token",
    "closed_contract",
    "bounce",
    "unauthenticated",
    "refused_too_large",
    "refused_attachment",
)
NOTICE_TEMPLATES: dict[str, str] = {
    "question": "notice_question",
    "change_request": "change_request",
    "shunted": "notice_shunted",
    "chat_link_closed": "notice_link_closed",
    "chat_code_limit": "notice_code_limit",
    "chat_refused": "notice_chat_refused",
    "chat_locked": "notice_chat_locked",
    "undeliverable": "notice_undeliverable",
    "signature_refused": "notice_signature",
    "signer_unconfirmed": "notice_signature",
    "expired": "notice_expired",
    "completed": "notice_completed",
    "chat_error": "notice_chat_error",
    **dict.fromkeys(KEPT_KINDS, "notice_kept"),
}


def staff_notice(
    kind: str,
    lang: str,
    params: Mapping[str, Any],
    group: Mapping[str, Any] | None = None,
) -> str | None:
    """A staff notice worded in ``lang`` from its kind and values (``group``: the counts of a
    grouped notice); None when the kind has no template or the values do not fit it."""
    template = "notice_grouped" if group is not None else NOTICE_TEMPLATES.get(kind)
    if template is None:
        return None
    context = {**params, "kind": kind}
    if group is not None:
        context["g"] = group
    try:
        return render_staff(template, lang, **context)
    except (TemplateError, TypeError, ValueError, AttributeError, KeyError):
        return None  # a row written by another version: delivered with its stored text


def notice_text(kind: str, params: Mapping[str, Any]) -> str:
    """A notice's English words, stored with the row (logs, and old readers of ``text``)."""
    text = staff_notice(kind, "en", params)
    if text is None:
        raise ValueError(f"No staff notice template takes kind {kind!r} with {sorted(params)}.")
    return text


def render_customer(template: str, lang: str, /, **context: Any) -> str:
    """A customer's chat text: ``templates/chat/customer/<lang>/<template>.txt.j2`` (Dutch
    when the language is not one dpabot writes)."""
    lang = lang if lang in CUSTOMER_LANGUAGES else "nl"
    return render_chat(f"customer/{lang}/{template}", **context)
