"""Field value checks (pure): enterprise numbers, emails, plain text."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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
    return bool(_EMAIL.match(value.strip()))


def validate_value(kind: str, value: str) -> str | None:
    """None when the value is acceptable, else the reason in one short Dutch phrase."""
    value = value.strip()
    if not value:
        return "het antwoord is leeg"
    if len(value) > 4000:
        return "het antwoord is te lang (meer dan 4000 tekens)"
    if kind == "enterprise_number" and not enterprise_number_ok(value):
        return "dit is geen geldig ondernemingsnummer (10 cijfers met controlegetal)"
    if kind == "email" and not email_ok(value):
        return "dit is geen geldig e-mailadres"
    return None
