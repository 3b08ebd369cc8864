"""The words of a visible signature, in the contract's language (nl, fr, en).

A stamp is a text with ``{date}``, ``{time_local}`` and ``{time_utc}`` left for the signing
time (signing.stamp fills them with the time signed into the signature):

    Karolien Piskor
    Zaakvoerder, MOOI Schoonheidsverzorging
    Antwerpen, {date}
    {time_local} (Brussel) – {time_utc} UTC
    aanvaard per e-mail, antwoord 3f9a0c21be
"""

from __future__ import annotations

from typing import Literal

__all__ = ["How", "stamp_text"]

How = Literal["tenant_key", "reply_acceptance", "chat_acceptance"]

_BRUSSELS = {"nl": "Brussel", "fr": "Bruxelles", "en": "Brussels"}
_HOW = {
    "tenant_key": {
        "nl": "digitaal ondertekend met de sleutel van {firm}",
        "fr": "signé électroniquement avec la clé de {firm}",
        "en": "digitally signed with the key of {firm}",
    },
    "reply_acceptance": {
        "nl": "aanvaard per e-mail, antwoord {ref}",
        "fr": "accepté par e-mail, réponse {ref}",
        "en": "accepted by e-mail, reply {ref}",
    },
    "chat_acceptance": {
        "nl": "aanvaard via Telegram",
        "fr": "accepté via Telegram",
        "en": "accepted via Telegram",
    },
}
# The customer's own certificate (eID): their own tool draws the signature; these words are
# for the certificate of completion only.
OWN_CERTIFICATE = {
    "nl": "ondertekend met eigen certificaat (eID)",
    "fr": "signé avec son propre certificat (eID)",
    "en": "signed with their own certificate (eID)",
}


def _esc(text: str) -> str:
    """A value as literal text in the stamp's format string."""
    return " ".join(text.split()).replace("{", "{{").replace("}", "}}")


def stamp_text(
    lang: str,
    *,
    person: str,
    function: str,
    firm: str,
    place: str,
    how: How,
    ref: str = "",
) -> str:
    """The stamp of one party: who, where and when (filled at signing), how."""
    lang = lang if lang in _BRUSSELS else "nl"
    role = ", ".join(p for p in (_esc(function), _esc(firm)) if p)
    where = f"{_esc(place)}, {{date}}" if place.strip() else "{date}"
    lines = [
        _esc(person),
        role,
        where,
        f"{{time_local}} ({_BRUSSELS[lang]}) – {{time_utc}} UTC",
        _HOW[how][lang].format(firm=_esc(firm), ref=_esc(ref)),
    ]
    return "\n".join(line for line in lines if line)
