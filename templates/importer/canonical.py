"""The canonical field ids and the labels that name them, in nl, fr and en (pure)."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

PARTY_IDS = (
    "customer_name",
    "customer_enterprise_number",
    "customer_address",
    "customer_representative",
    "customer_representative_function",
    "customer_email",
    "place",
    "sign_date",
)

_DPO = re.compile(
    r"functionaris voor gegevensbescherming|gegevensbeschermingsfunctionaris|"
    r"data protection officer|délégué(?:e)? à la protection|\bdpo\b|\bdpd\b|\bfg\b",
    re.IGNORECASE,
)
_PHONE = re.compile(r"telefoon|téléphone|phone|\btel\b|\btél\b|gsm|mobile", re.IGNORECASE)
_EMAIL = re.compile(
    r"e-?mail|courriel|\bmail\b|adresse (?:de courrier )?électronique|courrier électronique|"
    r"elektronisch adres",
    re.IGNORECASE,
)
_NAME = re.compile(r"^\s*(naam|nom|name|identité|identity)\b", re.IGNORECASE)
# Annex labels → canonical ids; the first rule that matches wins (order matters).
_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("data_subjects", re.compile(
        r"betrokkene|personnes concernées|data subjects?|categories of (?:individuals|persons)|"
        r"gegevens ?onderwerp",
        re.IGNORECASE)),
    ("nature_purpose", re.compile(r"\bdoel|finalit|purpose", re.IGNORECASE)),
    ("data_types", re.compile(
        r"persoonsgegevens|(?:soort(?:en)?|types?) (?:van )?gegevens|gegevenstype|"
        r"categorie(?:ë|e)n (?:van )?gegevens|"
        r"données|personal data|(?:categories|types?|kinds?) of data|\bdata\b",
        re.IGNORECASE)),
    ("nature_purpose", re.compile(r"\baard\b|\bnature\b", re.IGNORECASE)),
    ("duration", re.compile(
        r"\bduur|durée|duration|looptijd|bewaartermijn|\bterm\b|retention", re.IGNORECASE)),
    ("subject", re.compile(r"onderwerp|voorwerp|\bobjet\b|subject", re.IGNORECASE)),
]  # fmt: skip


@cache
def specs() -> dict[str, dict[str, Any]]:
    """Canonical id → its type, labels, aliases and question (nl, fr, en)."""
    path = Path(__file__).with_name("canonical.toml")
    return tomllib.loads(path.read_text(encoding="utf-8"))


def is_name_label(label: str) -> bool:
    """A label asking a person's name ("Naam", "Nom", "Name:")."""
    return _NAME.search(label) is not None


def is_dpo(label: str) -> bool:
    return _DPO.search(label) is not None


def canonical_id(label: str, *, in_dpo_group: bool) -> str | None:
    """The canonical id a label names, or None (then it is the template's own field)."""
    if in_dpo_group or is_dpo(label):
        if _PHONE.search(label):
            return "dpo_phone"
        if _EMAIL.search(label):
            return "dpo_email"
        if _NAME.search(label) or is_dpo(label):
            return "dpo_name"
        return None
    if _PHONE.search(label) or _EMAIL.search(label):
        return None
    for fid, rule in _RULES:
        if rule.search(label):
            return fid
    return None
