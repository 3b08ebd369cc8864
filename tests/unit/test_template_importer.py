"""The importer's pure parts: labels mapped to canonical ids in nl, fr and en; wrapped and
broken lines joined; the list of annexes is not taken for the annexes; parties become values."""

from __future__ import annotations

import pytest

from templates.importer.canonical import canonical_id
from templates.importer.paragraphs import paragraphs
from templates.importer.read_text import read_txt
from templates.importer.structure import structure


@pytest.mark.parametrize(
    ("label", "dpo", "expected"),
    [
        ("Onderwerp van de verwerking", False, "subject"),
        ("Duur van de verwerking", False, "duration"),
        ("Aard en doel van de verwerking", False, "nature_purpose"),
        ("Soort persoonsgegevens die worden verwerkt", False, "data_types"),
        ("Categorieën van betrokkenen bij de verwerker", False, "data_subjects"),
        ("Objet du traitement", False, "subject"),
        ("Durée du traitement", False, "duration"),
        ("Finalités", False, "nature_purpose"),
        ("Catégories de données", False, "data_types"),
        ("Catégories de personnes concernées", False, "data_subjects"),
        ("Subject matter", False, "subject"),
        ("Nature and purpose of the processing", False, "nature_purpose"),
        ("Types of personal data", False, "data_types"),
        ("Categories of data subjects", False, "data_subjects"),
        ("Naam", True, "dpo_name"),
        ("Téléphone", True, "dpo_phone"),
        ("Email", True, "dpo_email"),
        ("Data protection officer", False, "dpo_name"),
        ("Bewaarlocatie", False, None),
        ("Telefoon", False, None),
    ],
)
def test_labels_map_to_canonical_ids(label, dpo, expected):
    assert canonical_id(label, in_dpo_group=dpo) == expected


def test_wrapped_lines_and_words_broken_across_a_blank_line_are_joined():
    text = (
        "Het vermogen om op permanente basis de vertrouwelijkheid en de veerkracht "
        "van de verwerkingssys-\n"
        "\n"
        "temen te garanderen, ook wanneer de diensten worden uitgebreid naar andere landen en\n"
        "regio's van de Unie.\n"
    )
    (block,) = paragraphs(read_txt(text))
    assert "verwerkingssystemen te garanderen" in block.text
    assert "landen en regio's" in block.text


def test_the_list_of_annexes_is_not_taken_for_the_annexes_and_parties_become_values():
    text = """VERWERKERSOVEREENKOMST

PARTY

Artikel 1: Voorwerp
De verwerker verwerkt de gegevens zoals beschreven in bijlage 1.

Bijlage 1: Doeleinden

Verwerkersovereenkomst - Bijlage 1

Onderwerp van de verwerking

Duur van de verwerking
"""
    party = (
        "Atelier Noord BV met ondernemingsnummer BE0403.170.701, hier vertegenwoordigd door "
        "Jan Peeters, verder genoemd klant (of verwerkingsverantwoordelijke)"
    )
    doc = structure(paragraphs(read_txt(text.replace("PARTY", party))), "noord")
    assert doc.annexes == ["Verwerkersovereenkomst - Bijlage 1"]
    assert [f.id for f in doc.fields] == ["subject", "duration"]
    (controller,) = [p for p in doc.parties if p.role == "controller"]
    assert controller.values == {
        "customer_name": "Atelier Noord BV",
        "customer_enterprise_number": "BE0403.170.701",
        "customer_representative": "Jan Peeters",
    }
    assert not doc.party_block_added
