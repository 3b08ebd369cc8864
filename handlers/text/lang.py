"""Text folding and nl/fr/en language detection of the customer's own words (pure)."""

from __future__ import annotations

import re
import unicodedata

# Phones and mail clients turn D'ACCORD into D’ACCORD: read both the same way.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'"})


def clean(text: str) -> str:
    """Straight apostrophes and no non-breaking or zero-width spaces, so patterns stay simple."""
    text = text.translate(_APOSTROPHES)
    return re.sub(r"[\u200b\u200c\u200d\ufeff]", "", text).replace("\xa0", " ")


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation collapsed to single spaces: for comparing words."""
    text = unicodedata.normalize("NFKD", clean(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def fold_same_length(text: str) -> str:
    """Lower case without accents, one character per character: match here, cut the original."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFKD", ch)[:1] or ch
        low = base.lower()
        out.append(low if len(low) == 1 else ch)
    return "".join(out)


# Short, frequent words that hardly occur in the other two languages ("de" and "en" are in
# both Dutch and French, so they are left out).
_WORDS = {
    "nl": "het een van niet wij we ons onze ik graag groeten bedankt akkoord ook maar naar bij "
    "heeft hebben wordt worden nog zijn voor met dat die dit deze wat hoe mijn uw u zoals klopt "
    "goed geen alle dank hierbij vriendelijke groet beste",
    "fr": "le la les des du une et est sont pour pas nous notre vous votre je que qui dans avec "
    "sur ce cette merci cordialement bonjour accord au aux mon ma mes nos vos tout bien oui "
    "madame monsieur",
    "en": "the and is are of to for with we our you your that this not please thanks regards "
    "agree hello dear be it my as all yes kind best thank",
}
_SETS = {lang: frozenset(words.split()) for lang, words in _WORDS.items()}
# One-word replies carry their language in the word itself.
_MARKERS = {
    "nl": ("akkoord", "goedgekeurd", "klopt"),
    "fr": ("d'accord", "j'accepte", "accepte", "approuve", "bonjour"),
    "en": ("i agree", "agreed", "approved", "hello", "hi "),
}


def detect_language(text: str, fallback: str = "nl") -> tuple[str, bool]:
    """(language, sure): the best of nl/fr/en by frequent words; fallback when nothing counts."""
    words = fold(text).split()
    scores = {lang: sum(1 for w in words if w in s) for lang, s in _SETS.items()}
    low = " " + clean(text).lower()
    for lang, markers in _MARKERS.items():
        scores[lang] += sum(2 for m in markers if m in low)
    best = max(scores, key=lambda k: scores[k])
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] == 0:
        return fallback, False
    if ranked[0] == ranked[1]:
        # A tie keeps the fallback when it is among the best; else any of the best.
        if scores.get(fallback, -1) == ranked[0]:
            return fallback, False
        return best, False
    return best, ranked[0] >= 2
