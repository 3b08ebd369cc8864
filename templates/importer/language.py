"""The language of a document (nl, fr or en) and the words the template prints in it (pure)."""

from __future__ import annotations

import re

_STOP = {
    "nl": {"de", "het", "een", "van", "en", "die", "dat", "voor", "met", "zijn", "wordt", "door"},
    "fr": {"le", "la", "les", "des", "du", "et", "une", "est", "pour", "dans", "par", "aux"},
    "en": {"the", "of", "and", "to", "is", "for", "by", "with", "shall", "any", "this", "be"},
}

WORDS: dict[str, dict[str, str]] = {
    "nl": {
        "page": "pagina", "of": "van", "draft": "CONCEPT – ter nazicht, nog niet ondertekend",
        "controller": "Verwerkingsverantwoordelijke", "processor": "Verwerker",
        "name": "Naam", "function": "Functie", "place": "Locatie", "date": "Datum",
        "number": "met ondernemingsnummer", "seat": "met zetel te",
        "represented": "vertegenwoordigd door", "between": "Partijen bij deze overeenkomst:",
        "esign": "Beide partijen ondertekenen dit document elektronisch.",
    },
    "fr": {
        "page": "page", "of": "sur", "draft": "PROJET – pour relecture, non signé",
        "controller": "Responsable du traitement", "processor": "Sous-traitant",
        "name": "Nom", "function": "Fonction", "place": "Lieu", "date": "Date",
        "number": "numéro d'entreprise", "seat": "dont le siège est situé à",
        "represented": "représenté par", "between": "Parties à la présente convention :",
        "esign": "Les deux parties signent ce document électroniquement.",
    },
    "en": {
        "page": "page", "of": "of", "draft": "DRAFT – for review, not signed",
        "controller": "Controller", "processor": "Processor",
        "name": "Name", "function": "Position", "place": "Place", "date": "Date",
        "number": "enterprise number", "seat": "registered office at",
        "represented": "represented by", "between": "Parties to this agreement:",
        "esign": "Both parties sign this document electronically.",
    },
}  # fmt: skip


def detect(text: str) -> str:
    """nl, fr or en: the language whose common words the text uses most (nl when unsure)."""
    tokens = re.findall(r"[a-zà-ÿ]+", text.lower()[:50_000])
    scores = {lang: sum(t in stop for t in tokens) for lang, stop in _STOP.items()}
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > 0 else "nl"
