"""A customer list's vocabulary: the columns, the header names each accepts in three languages,
the languages, and what a problem with a row says."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.text.lang import fold

# Column id → accepted header names (compared folded: case, accents, spaces and punctuation
# do not matter, so "E-mail", "e mail" and "EMAIL" are one name).
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "naam",
        "nom",
        "company",
        "company name",
        "customer",
        "customer name",
        "klant",
        "klantnaam",
        "bedrijf",
        "bedrijfsnaam",
        "firma",
        "onderneming",
        "client",
        "nom du client",
        "société",
        "entreprise",
        "nom de l'entreprise",
        "raison sociale",
        "customer_name",
    ),
    "email": (
        "email",
        "e-mail",
        "mail",
        "email address",
        "e-mailadres",
        "emailadres",
        "adresse e-mail",
        "adresse mail",
        "courriel",
        "adresse électronique",
        "customer_email",
    ),
    "representative": (
        "representative",
        "vertegenwoordiger",
        "wettelijk vertegenwoordiger",
        "représentant",
        "représentant légal",
        "contact",
        "contact person",
        "contactpersoon",
        "personne de contact",
        "signatory",
        "ondertekenaar",
        "signataire",
        "customer_representative",
    ),
    "enterprise_number": (
        "enterprise_number",
        "enterprise number",
        "company number",
        "ondernemingsnummer",
        "ondernemingsnr",
        "kbo",
        "kbo-nummer",
        "btw",
        "btw-nummer",
        "btw-nr",
        "numéro d'entreprise",
        "n° d'entreprise",
        "bce",
        "numéro bce",
        "tva",
        "numéro de tva",
        "n° tva",
        "vat",
        "vat number",
        "customer_enterprise_number",
    ),
    "representative_function": (
        "function",
        "representative_function",
        "representative function",
        "functie",
        "fonction",
        "hoedanigheid",
        "qualité",
        "title",
        "titel",
        "titre",
        "job title",
        "position",
        "customer_representative_function",
    ),
    "language": ("language", "taal", "langue", "lang"),
}


REQUIRED = ("name", "email", "representative")


# Plain words for the columns, used in the reasons.
WHAT = {
    "name": "name",
    "email": "email address",
    "representative": "representative",
    "enterprise_number": "enterprise number",
    "representative_function": "function",
    "language": "language",
}


# Longest value each column may hold (the customers table's sizes).
MAX_LEN = {
    "name": 300,
    "email": 320,
    "representative": 200,
    "enterprise_number": 32,
    "representative_function": 200,
}


LANGUAGES: dict[str, str] = {
    **dict.fromkeys(
        ("nl", "nl be", "nl nl", "nederlands", "dutch", "vlaams", "flemish", "neerlandais"), "nl"
    ),
    **dict.fromkeys(("fr", "fr be", "fr fr", "francais", "frans", "french"), "fr"),
    **dict.fromkeys(("en", "en gb", "en us", "english", "engels", "anglais"), "en"),
}


DEFAULT_LANGUAGE = "nl"


def column_key(header: str) -> str:
    return fold(header).replace(" ", "")


ALIASES: dict[str, str] = {column_key(a): col for col, names in COLUMNS.items() for a in names}


@dataclass(frozen=True)
class Problem:
    """Why the file cannot be imported: a row number (None: the file as a whole) and a reason."""

    row: int | None
    reason: str

    def __str__(self) -> str:
        return self.reason if self.row is None else f"row {self.row}: {self.reason}"
