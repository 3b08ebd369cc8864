"""The importer's pure parts: labels mapped to canonical ids in nl, fr and en; wrapped and
broken lines joined; the list of annexes is not taken for the annexes; parties become values.
The classes of miss found on DPAs nobody here wrote (tests/corpus/dpas2) each have a test below
that fails without its fix."""

from __future__ import annotations

import pytest

from templates.importer import patterns as pt
from templates.importer.canonical import canonical_id
from templates.importer.coverage import coverage
from templates.importer.model import Block
from templates.importer.paragraphs import paragraphs
from templates.importer.read_text import read_md, read_txt
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
        # French writes an email address as an "adresse électronique".
        ("Adresse électronique", True, "dpo_email"),
        ("Adresse électronique du délégué à la protection des données", False, "dpo_email"),
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


def _doc(text: str, template_id: str = "t"):
    return structure(paragraphs(read_txt(text)), template_id)


def _annex(lines: str) -> str:
    return "CONVENTION\n\nArticle 1. Objet\nLe texte.\n\nAnnex 1 – Details\n\n" + lines


def test_a_place_to_write_is_no_value():
    """ "Durée : ……" and "Email:   ____" ask an answer: the dots are not the answer."""
    doc = _doc(_annex("Subject matter: hosting\nDuration: ……………\n\nData protection officer:\n"
                      "Name:   ________\nEmail:  ________\n"))  # fmt: skip
    assert [(f.id, f.default) for f in doc.fields] == [
        ("subject", "hosting"), ("duration", ""), ("dpo_name", ""), ("dpo_email", "")
    ]  # fmt: skip


def test_a_dpo_line_with_its_own_blank_asks_the_name_and_opens_the_group():
    doc = _doc(_annex("Objet du traitement : paie\nDélégué à la protection des données : ……………\n"
                      "Adresse électronique : ……………\nTéléphone : ……………\n"))  # fmt: skip
    assert [f.id for f in doc.fields] == ["subject", "dpo_name", "dpo_email", "dpo_phone"]


def test_a_dpo_row_with_no_name_row_under_it_is_the_name():
    def ids(rows: list[list[str]]) -> list[str]:
        blocks = [Block("h", "Bijlage 1 – Specificatie", level=2), Block("table", rows=rows)]
        return [f.id for f in structure([Block("p", "Tekst."), *blocks], "t").fields]

    assert ids([["Onderwerp", "Hosting"], ["Functionaris voor gegevensbescherming", ""],
                ["E-mailadres functionaris", ""], ["Telefoonnummer functionaris", ""]]) == [
        "subject", "dpo_name", "dpo_email", "dpo_phone"]  # fmt: skip
    # With a name row under it, the DPO row is the group's heading (as before).
    assert ids([["Onderwerp", "Hosting"], ["Functionaris voor gegevensbescherming", ""],
                ["Naam", ""], ["E-mail", ""]]) == ["subject", "dpo_name", "dpo_email"]  # fmt: skip


def test_the_heading_row_of_a_label_table_is_no_field():
    rows = [["Item", "Description"], ["Subject matter", "Hosting"], ["Duration", ""]]
    blocks = [
        Block("p", "Text."),
        Block("h", "Annex 1 – Details", level=2),
        Block("table", rows=rows),
    ]
    doc = structure(blocks, "t")
    assert [f.id for f in doc.fields] == ["subject", "duration"]


def test_a_signature_table_after_the_annex_is_where_the_document_is_signed():
    signature = [["Voor de Verwerkingsverantwoordelijke", "Voor de Verwerker"],
                 ["Naam: ……………", "Naam: Sofie Peeters"], ["Functie: ……………", "Functie: zaakvoerder"],
                 ["Handtekening:", "Handtekening:"]]  # fmt: skip
    blocks = [Block("p", "Tekst."), Block("h", "Bijlage 1 – Specificatie", level=2),
              Block("table", rows=[["Onderwerp", "Hosting"], ["Duur", ""]]),
              Block("p", "Opgemaakt te ……………"), Block("table", rows=signature)]  # fmt: skip
    doc = structure(blocks, "t")
    assert [f.id for f in doc.fields] == ["subject", "duration"]
    assert doc.signature_found and [i.kind for i in doc.items][-1] == "signature"
    assert doc.signed["processor"] == {
        "representative": "Sofie Peeters", "representative_function": "zaakvoerder"}  # fmt: skip
    assert pt.is_signature_table(signature)
    assert not pt.is_signature_table([["Naam", "Jan"], ["Functie", "zaakvoerder"]])


def test_each_place_to_write_in_a_party_paragraph_is_its_own_value():
    doc = _doc(
        "VERWERKERSOVEREENKOMST\n\nTUSSEN:\n\n……………………, met maatschappelijke zetel te "
        "……………………,\ningeschreven onder het nummer ……………, hier vertegenwoordigd door "
        "……………………,\nhierna de Verwerkingsverantwoordelijke;\n\nArtikel 1. Voorwerp\nTekst.\n"
    )
    (para,) = [i for i in doc.items if i.segments]
    assert [s for s in para.segments if isinstance(s, tuple)] == [
        ("F", "customer_name"), ("F", "customer_address"),
        ("F", "customer_enterprise_number"), ("F", "customer_representative")]  # fmt: skip
    assert not doc.party_block_added


def test_a_party_named_by_the_line_under_its_paragraph():
    doc = _doc(
        "CONVENTION\n\nComptanet SRL, dont le siège est établi à Liège, numéro BE 0689.472.915,\n"
        "représentée par Monsieur Julien Lambotte, administrateur délégué,\n\n"
        "ci-après dénommée « le Sous-traitant » ;\n\nArticle 1. Objet\nTexte.\n"
    )
    (processor,) = doc.parties
    assert processor.role == "processor"
    assert processor.values == {"name": "Comptanet SRL", "enterprise_number": "BE 0689.472.915",
                                "representative": "Julien Lambotte"}  # fmt: skip


def test_a_parties_heading_is_no_name_and_a_list_number_is_not_part_of_one():
    doc = _doc(
        "VERWERKERSOVEREENKOMST\n\nPartijen\n\n1. De werkgever die met Loonwijs een "
        "overeenkomst heeft gesloten, zoals vermeld op het ondertekeningsblad, hierna: "
        "Verwerkingsverantwoordelijke; en\n\n2. Loonwijs B.V., gevestigd te Utrecht, "
        "vertegenwoordigd door de heer M.J. (Martijn) de Groot, hierna: Verwerker.\n\n"
        "1. Definities\nTekst.\n"
    )
    assert [(p.role, p.values) for p in doc.parties] == [
        ("processor", {"name": "Loonwijs B.V.", "representative": "M.J. (Martijn) de Groot"})
    ]
    assert doc.party_block_added
    doc = _doc(
        "DATA PROCESSING AGREEMENT\n\nAND Acme Hosting BV, enterprise number BE0403.170.701, "
        "represented by Jan Peeters, hereinafter the Processor.\n\nClause 1. Scope\nText.\n"
    )
    assert doc.parties[0].values["name"] == "Acme Hosting BV"


def test_a_sentence_running_on_into_a_place_to_write_is_one_paragraph():
    (block,) = paragraphs(read_txt(
        "…………, dont le siège est établi à …………, inscrite sous le numéro …………, représentée par\n"
        "…………………………, en sa qualité de ……………………,\n"))  # fmt: skip
    assert block.text.endswith("représentée par …………………………, en sa qualité de ……………………,")


def test_a_title_in_capitals_is_not_joined_to_its_subtitle():
    blocks = paragraphs(
        read_txt("CONVENTION DE SOUS-TRAITANCE\nrelative au traitement de données\n")
    )
    assert [b.text for b in blocks] == ["CONVENTION DE SOUS-TRAITANCE",
                                        "relative au traitement de données"]  # fmt: skip


@pytest.mark.parametrize("heading", ["Article premier – Objet", "Article 1er. Objet",
                                     "Article IV – Sécurité"])  # fmt: skip
def test_articles_numbered_in_words_or_roman_figures_are_headings(heading):
    assert pt.heading_level(heading) == 2
    assert pt.heading_level("Article in the GDPR on security") == 0


def test_clauses_after_a_sentence_and_a_numbered_first_line_of_a_paragraph():
    wide = "x" * 70
    text = (
        f"{wide} end of it.\n"
        "4.2 De maatregelen omvatten in ieder geval de versleuteling van gegevens.\n"
        "7.1 Verwerker verleent Verwerkingsverantwoordelijke medewerking bij het afhandelen van\n"
        "Betrokkenen tot inzage, rectificatie, wissing en beperking.\n"
        + "\n".join([wide] * 9)
        + "\n"
    )
    blocks = paragraphs(read_txt(text))
    assert blocks[1].text.startswith("4.2 De maatregelen")
    assert blocks[2].kind == "p" and "afhandelen van Betrokkenen tot inzage" in blocks[2].text


def test_a_word_broken_at_its_own_hyphen_keeps_it():
    text = (
        "Le sous-traitant et le responsable du traitement concluent la convention, le sous-\n"
        "traitant traite les données dans un EU-\ndatacenter, dont la vernie-\ntiging suit.\n"
    )
    (block,) = paragraphs(read_txt(text))
    assert "le sous-traitant traite" in block.text
    assert "EU-datacenter" in block.text and "vernietiging" in block.text
    # The measure counts a compound as one word, with its hyphen or not.
    assert coverage("sous-\ntraitant", "sous-traitant")[0] == 1.0


def test_underscores_under_a_question_are_its_answer_not_a_page_break():
    blocks = read_txt("Types of personal data:\n_____________________\n\nText\n______________\n")
    assert [b.kind for b in blocks][:5] == ["line", "line", "blank", "line", "break"]


def test_markdown_rules_print_nothing_and_setext_headings_are_headings():
    blocks = read_md("Intro text.\n\n---\n\nDefinitions\n-----------\n\nBody.\n")
    assert [(b.kind, b.text) for b in blocks] == [
        ("p", "Intro text."), ("h", "Definitions"), ("p", "Body.")]  # fmt: skip


def test_signature_columns_named_above_the_lines_give_each_party_its_values():
    doc = _doc(
        "CONVENTION\n\nArticle 1. Objet\nTexte.\n\nFait à Liège, le ………, en deux exemplaires.\n"
        "Pour le Responsable du traitement Pour le Sous-traitant\n"
        "Nom : ………………… Nom : Julien Lambotte\n"
        "Fonction : ………………… Fonction : administrateur délégué\n"
        "Signature : Signature :\n"
    )
    assert doc.signed["processor"] == {
        "representative": "Julien Lambotte",
        "representative_function": "administrateur délégué",
    }
