"""Field value checks (pure): enterprise numbers, emails, phones, durations, dates, plain text."""

from __future__ import annotations

import datetime as dt
import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from handlers.text.lang import fold

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Reasons are shown to the customer in their own language (nl, fr, en).
REASONS: dict[str, dict[str, str]] = {
    "empty": {
        "nl": "het antwoord is leeg",
        "fr": "la réponse est vide",
        "en": "the answer is empty",
    },
    "too_long": {
        "nl": "het antwoord is te lang (meer dan 4000 tekens)",
        "fr": "la réponse est trop longue (plus de 4000 caractères)",
        "en": "the answer is too long (more than 4000 characters)",
    },
    "enterprise_number": {
        "nl": "dit is geen geldig ondernemingsnummer (10 cijfers met controlegetal)",
        "fr": "ce n'est pas un numéro d'entreprise valable (10 chiffres avec chiffre de contrôle)",
        "en": "this is not a valid enterprise number (10 digits with a check number)",
    },
    "email": {
        "nl": "dit is geen geldig e-mailadres",
        "fr": "ce n'est pas une adresse e-mail valable",
        "en": "this is not a valid email address",
    },
    "phone": {
        "nl": "dit is geen geldig telefoonnummer",
        "fr": "ce n'est pas un numéro de téléphone valable",
        "en": "this is not a valid phone number",
    },
    "duration": {
        "nl": "geef een duur met een getal en een eenheid (bv. 5 jaar) of verwijs naar de "
        "looptijd van de overeenkomst",
        "fr": "indiquez une durée avec un nombre et une unité (p. ex. 5 ans) ou renvoyez à la "
        "durée du contrat",
        "en": "give a duration with a number and a unit (e.g. 5 years) or refer to the term "
        "of the agreement",
    },
    "edit_request": {
        "nl": "u vraagt het voorstel aan te passen; schrijf de volledige tekst zoals die in de "
        "overeenkomst moet komen",
        "fr": "vous demandez de modifier la proposition ; écrivez le texte complet tel qu'il doit "
        "figurer dans la convention",
        "en": "you ask to change the proposal; please write the full text as it should appear in "
        "the agreement",
    },
    "date": {
        "nl": "dit is geen geldige datum (bv. 2026-11-23)",
        "fr": "ce n'est pas une date valable (p. ex. 23/11/2026)",
        "en": "this is not a valid date (e.g. 2026-11-23)",
    },
}


def reason(key: str, lang: str) -> str:
    """The reason text in lang, Dutch when the language is not one of ours."""
    texts = REASONS[key]
    return texts.get(lang) or texts["nl"]


def belgian_enterprise_number_ok(value: str) -> bool:
    """Belgian KBO/BCE number: 10 digits, the last two = 97 - (first eight mod 97)."""
    digits = re.sub(r"\D", "", value.upper().removeprefix("BE"))
    if len(digits) == 9:
        digits = "0" + digits
    if len(digits) != 10:
        return False
    return 97 - int(digits[:8]) % 97 == int(digits[8:])


def enterprise_number_ok(value: str) -> bool:
    """Belgian numbers (BE + 10 digits, mod 97) are checked; foreign VAT ids pass as given."""
    compact = re.sub(r"[\s.\-]", "", value).upper()
    if re.fullmatch(r"(BE)?[01]\d{9}", compact):
        return belgian_enterprise_number_ok(compact)
    return bool(re.fullmatch(r"(?!BE)[A-Z]{2}[0-9A-Z+*]{2,13}", compact))


def email_ok(value: str) -> bool:
    """Syntax check only (no DNS): the pure reader never goes to the network."""
    value = value.strip()
    if not _EMAIL.match(value):
        return False
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def normalize_phone(value: str, region: str = "BE") -> str | None:
    """The number in international format (+32 3 123 45 67), or None when it is not valid."""
    # "+31(0)6…" is how the Dutch write a trunk zero next to the country code: drop the "(0)".
    compact = re.sub(r"\(0\)", "", value.strip())
    try:
        number = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException:
        return None
    # Possible (right length for its country) rather than valid: is_valid_number also wants
    # the range to be allocated, and would refuse numbers in ranges newer than the library.
    national = phonenumbers.national_significant_number(number)
    possible = (
        phonenumbers.is_possible_number_with_reason(number)
        == phonenumbers.ValidationResult.IS_POSSIBLE
        and len(national) >= 8
        and not national.startswith("0")
    )
    if not (phonenumbers.is_valid_number(number) or possible):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


_NUMBER_WORDS = (
    "een één eén twee drie vier vijf zes zeven acht negen tien elf twaalf vijftien twintig "
    "dertig veertig zestig un une deux trois quatre cinq six sept huit neuf dix onze douze "
    "quinze vingt trente one two three four five six seven eight nine ten eleven twelve "
    "fifteen twenty thirty sixty half halve demi"
)
_NUMBER = rf"(?:\d+(?:[.,]\d+)?|{'|'.join(fold(w) for w in _NUMBER_WORDS.split())})"
_UNIT = (
    r"(?:jaar|jaren|jr|maand|maanden|mnd|week|weken|dag|dagen|uur|uren|"
    r"an|ans|annee|annees|mois|semaine|semaines|jour|jours|heures?|"
    r"years?|yrs?|months?|weeks?|days?|hours?)"
)
_DURATION_AMOUNT = re.compile(rf"\b{_NUMBER}\s*-?\s*{_UNIT}\b")
# A duration may also be tied to the contract, the service or an open-ended term.
_DURATION_PHRASE = re.compile(
    r"\b(looptijd|duur van de (overeenkomst|verwerkersovereenkomst|dienstverlening|"
    r"samenwerking|bestelling|opdracht|contract)|termijn van de|zolang|onbepaalde (duur|tijd)|"
    r"tot (het einde|de beeindiging|beeindiging|opzegging)|einde van de (overeenkomst|"
    r"samenwerking|dienstverlening)|"
    r"duree (du|de la|de l) (contrat|convention|service|prestation|commande|collaboration|"
    r"relation)|tant que|tant qu|aussi longtemps que|duree indeterminee|"
    r"jusqu a (la fin|la resiliation|"
    r"l expiration|la cessation)|pendant (toute )?la duree|"
    r"term of the (agreement|contract|service|order)|duration of the (agreement|contract|"
    r"service|order|main agreement)|as long as|for as long as|indefinite|until (the end|"
    r"termination|the termination|expiry)|for the duration|unlimited|onbeperkt|illimitee|"
    # "tot we stoppen met iBeauty", "until we cancel", "jusqu'à fin 2027": an end named
    r"(tot|totdat|until|till|jusqu a|jusqu au|jusqu en|jusqu ce que) \w+ \w+|"
    r"(eind|einde|fin|end) (van |de |of )?(19|20)\d\d|so long as|while we|voor de duur)\b"
)


def duration_ok(value: str) -> bool:
    """A number with a unit ("5 jaar", "24 mois", "2 years") or a term tied to the contract."""
    folded = fold(value)
    return bool(_DURATION_AMOUNT.search(folded) or _DURATION_PHRASE.search(folded))


def normalize_date(value: str) -> str | None:
    """ISO date (YYYY-MM-DD) of '2026-11-23', '23/11/2026', '23-11-2026' or '23.11.2026'."""
    value = value.strip()
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    m = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", value)
    if not m:
        return None
    try:
        return dt.date(int(m[3]), int(m[2]), int(m[1])).isoformat()
    except ValueError:
        return None


def check_value(kind: str, value: str, lang: str = "nl") -> tuple[str, str | None]:
    """(value as stored, None) when acceptable, else (value, reason in lang).

    kind is a field type (text, enterprise_number, email, phone, date) or "duration".
    """
    value = value.strip()
    if not value:
        return value, reason("empty", lang)
    if len(value) > 4000:
        return value, reason("too_long", lang)
    if kind == "enterprise_number" and not enterprise_number_ok(value):
        return value, reason("enterprise_number", lang)
    if kind == "email":
        # Outlook's text part writes links as "a@b.be<mailto:a@b.be>"; keep the address.
        value = re.sub(r"<mailto:[^>]*>", "", value).strip().strip("<>").removeprefix("mailto:")
        if not email_ok(value):
            return value, reason("email", lang)
    if kind == "phone":
        phone = normalize_phone(value)
        if phone is None:
            return value, reason("phone", lang)
        value = phone
    if kind == "date":
        date = normalize_date(value)
        if date is None:
            return value, reason("date", lang)
        value = date
    if kind == "duration" and not duration_ok(value):
        return value, reason("duration", lang)
    return value, None


def validate_value(kind: str, value: str, lang: str = "nl") -> str | None:
    """None when the value is acceptable, else the reason in one short phrase in lang."""
    return check_value(kind, value, lang)[1]
