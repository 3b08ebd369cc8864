"""Writes 01-nl-planado-word.docx: a Flemish SaaS provider's verwerkersovereenkomst as Word makes
it: Title and Heading 1 styles, one multilevel list linked to the styles ("Artikel %1 –" on
Heading 1, "%1.%2" on the clause style, "%3)" on the enumeration style), so no number is in the
text; the parties at the top, the annex as a two-column table with blanks for the customer, the
signature table at the end.

    .venv/bin/python tests/corpus/dpas2/01-nl-planado-word.py
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt

OUT = Path(__file__).with_suffix(".docx")
DOTS = "………………………………………"

NUMBERING = f"""
<w:abstractNum {nsdecls("w")} w:abstractNumId="90">
  <w:multiLevelType w:val="multilevel"/>
  <w:lvl w:ilvl="0">
    <w:start w:val="1"/><w:numFmt w:val="decimal"/><w:pStyle w:val="Heading1"/>
    <w:suff w:val="space"/><w:lvlText w:val="Artikel %1 –"/><w:lvlJc w:val="left"/>
    <w:pPr><w:ind w:left="0" w:firstLine="0"/></w:pPr>
  </w:lvl>
  <w:lvl w:ilvl="1">
    <w:start w:val="1"/><w:numFmt w:val="decimal"/><w:pStyle w:val="Lid"/>
    <w:lvlText w:val="%1.%2"/><w:lvlJc w:val="left"/>
    <w:pPr><w:ind w:left="567" w:hanging="567"/></w:pPr>
  </w:lvl>
  <w:lvl w:ilvl="2">
    <w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:pStyle w:val="Opsomming"/>
    <w:lvlText w:val="%3)"/><w:lvlJc w:val="left"/>
    <w:pPr><w:ind w:left="1134" w:hanging="567"/></w:pPr>
  </w:lvl>
</w:abstractNum>
"""
RECITALS = f"""
<w:abstractNum {nsdecls("w")} w:abstractNumId="91">
  <w:multiLevelType w:val="singleLevel"/>
  <w:lvl w:ilvl="0">
    <w:start w:val="1"/><w:numFmt w:val="upperLetter"/><w:pStyle w:val="Overweging"/>
    <w:lvlText w:val="(%1)"/><w:lvlJc w:val="left"/>
    <w:pPr><w:ind w:left="567" w:hanging="567"/></w:pPr>
  </w:lvl>
</w:abstractNum>
"""


def numbering(doc) -> None:
    part = doc.part.numbering_part.element
    first_num = part.find(qn("w:num"))
    for xml in (NUMBERING, RECITALS):
        node = parse_xml(xml)
        if first_num is not None:
            first_num.addprevious(node)
        else:
            part.append(node)
    part.append(
        parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>')
    )
    part.append(
        parse_xml(f'<w:num {nsdecls("w")} w:numId="91"><w:abstractNumId w:val="91"/></w:num>')
    )


def link(style, num_id: int, level: int) -> None:
    numbered(style.element.get_or_add_pPr(), num_id, level)


def numbered(ppr, num_id: int, level: int) -> None:
    """numPr in its schema place in pPr (Word refuses elements out of order)."""
    num_pr = ppr.get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = level
    num_pr.get_or_add_numId().val = num_id


def styles(doc) -> None:
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(6)
    link(doc.styles["Heading 1"], 90, 0)
    for name, level in (("Lid", 1), ("Opsomming", 2)):
        style = doc.styles.add_style(name, 1)
        style.base_style = normal
        link(style, 90, level)
    recital = doc.styles.add_style("Overweging", 1)
    recital.base_style = normal
    link(recital, 91, 0)


def unnumbered_heading(doc, text: str):
    paragraph = doc.add_paragraph(text, style="Heading 1")
    numbered(paragraph._p.get_or_add_pPr(), 0, 0)
    return paragraph


ARTICLES: list[tuple[str, list]] = [
    (
        "Definities",
        [
            "De begrippen die in deze Overeenkomst met een hoofdletter worden geschreven, hebben de "
            "betekenis die eraan wordt gegeven in artikel 4 van de Verordening (EU) 2016/679 van 27 "
            "april 2016 (de “AVG”), tenzij hieronder anders bepaald.",
            "Hoofdovereenkomst: de overeenkomst tussen Partijen voor het gebruik van het online "
            "planningsplatform Planado, met inbegrip van de algemene voorwaarden van de Verwerker.",
            "Persoonsgegevens: alle persoonsgegevens die de Verwerker in opdracht van de "
            "Verwerkingsverantwoordelijke verwerkt bij de uitvoering van de Hoofdovereenkomst.",
            "Subverwerker: iedere derde die door de Verwerker wordt ingeschakeld om Persoonsgegevens te "
            "verwerken voor rekening van de Verwerkingsverantwoordelijke.",
        ],
    ),
    (
        "Onderwerp en toepassingsgebied",
        [
            "Deze Overeenkomst regelt de verwerking van Persoonsgegevens door de Verwerker in opdracht "
            "van de Verwerkingsverantwoordelijke, zoals nader omschreven in Bijlage 1.",
            "Deze Overeenkomst maakt integraal deel uit van de Hoofdovereenkomst. Bij strijdigheid "
            "tussen beide gaan de bepalingen van deze Overeenkomst voor wat de verwerking van "
            "Persoonsgegevens betreft.",
            "De Verwerkingsverantwoordelijke bepaalt het doel van en de middelen voor de verwerking. "
            "De Verwerker heeft geen zeggenschap over het doel en de middelen.",
        ],
    ),
    (
        "Verplichtingen van de Verwerker",
        [
            "De Verwerker verwerkt de Persoonsgegevens uitsluitend op basis van schriftelijke "
            "instructies van de Verwerkingsverantwoordelijke, tenzij een op de Verwerker toepasselijke "
            "Unierechtelijke of lidstatelijke bepaling hem tot verwerking verplicht. In dat geval "
            "stelt de Verwerker de Verwerkingsverantwoordelijke vóór de verwerking in kennis van dat "
            "wettelijk voorschrift, tenzij die wetgeving dat verbiedt.",
            (
                "De Verwerker:",
                [
                    "verwerkt de Persoonsgegevens niet voor eigen doeleinden;",
                    "houdt een register bij van alle categorieën van verwerkingsactiviteiten die hij ten "
                    "behoeve van de Verwerkingsverantwoordelijke verricht;",
                    "brengt de Verwerkingsverantwoordelijke onmiddellijk op de hoogte indien een "
                    "instructie naar zijn mening inbreuk oplevert op de AVG of andere bepalingen inzake "
                    "gegevensbescherming;",
                    "verleent bijstand bij gegevensbeschermingseffectbeoordelingen en voorafgaande "
                    "raadplegingen van de Gegevensbeschermingsautoriteit.",
                ],
            ),
            "De Verwerker verwerkt de Persoonsgegevens binnen de Europese Economische Ruimte, "
            "behoudens het bepaalde in artikel 7.",
        ],
    ),
    (
        "Vertrouwelijkheid",
        [
            "De Verwerker waarborgt dat de personen die gemachtigd zijn om de Persoonsgegevens te "
            "verwerken, zich tot geheimhouding hebben verbonden of door een passende wettelijke "
            "verplichting tot geheimhouding gebonden zijn.",
            "De geheimhoudingsplicht blijft bestaan na het einde van deze Overeenkomst.",
        ],
    ),
    (
        "Beveiliging",
        [
            "Rekening houdend met de stand van de techniek, de uitvoeringskosten, de aard, de omvang, "
            "de context en de verwerkingsdoeleinden, alsook met de risico's voor de rechten en "
            "vrijheden van personen, treft de Verwerker passende technische en organisatorische "
            "maatregelen om een op het risico afgestemd beveiligingsniveau te waarborgen.",
            (
                "Deze maatregelen omvatten ten minste:",
                [
                    "de versleuteling van Persoonsgegevens tijdens het transport en in rust;",
                    "tweestapsverificatie voor alle beheerders van het platform;",
                    "dagelijkse back-ups, bewaard in een tweede datacenter binnen de Europese Unie;",
                    "een jaarlijkse penetratietest door een onafhankelijke derde.",
                ],
            ),
        ],
    ),
    (
        "Subverwerkers",
        [
            "De Verwerkingsverantwoordelijke verleent de Verwerker een algemene schriftelijke "
            "toestemming om Subverwerkers in te schakelen. De actuele lijst van Subverwerkers is "
            "beschikbaar op www.planado.be/subverwerkers.",
            "De Verwerker informeert de Verwerkingsverantwoordelijke ten minste dertig (30) dagen "
            "vooraf over een voorgenomen toevoeging of vervanging van een Subverwerker. De "
            "Verwerkingsverantwoordelijke kan binnen die termijn gemotiveerd bezwaar maken.",
            "De Verwerker legt aan iedere Subverwerker dezelfde verplichtingen op als die welke in "
            "deze Overeenkomst zijn opgenomen en blijft volledig aansprakelijk voor de nakoming ervan.",
        ],
    ),
    (
        "Doorgifte buiten de Europese Economische Ruimte",
        [
            "Een doorgifte van Persoonsgegevens naar een land buiten de Europese Economische Ruimte "
            "vindt alleen plaats indien de voorwaarden van hoofdstuk V van de AVG zijn vervuld, "
            "bijvoorbeeld op basis van de door de Europese Commissie vastgestelde "
            "modelcontractbepalingen.",
        ],
    ),
    (
        "Rechten van betrokkenen",
        [
            "De Verwerker verleent de Verwerkingsverantwoordelijke, rekening houdend met de aard van "
            "de verwerking, bijstand bij het vervullen van zijn plicht om verzoeken van betrokkenen "
            "om uitoefening van hun rechten te beantwoorden.",
            "Richt een betrokkene zich rechtstreeks tot de Verwerker, dan stuurt de Verwerker het "
            "verzoek binnen vijf (5) werkdagen door aan de Verwerkingsverantwoordelijke.",
        ],
    ),
    (
        "Inbreuken in verband met persoonsgegevens",
        [
            "De Verwerker meldt een inbreuk in verband met Persoonsgegevens zonder onredelijke "
            "vertraging en uiterlijk binnen achtenveertig (48) uur nadat hij er kennis van heeft "
            "genomen aan de Verwerkingsverantwoordelijke.",
            "De melding bevat ten minste de aard van de inbreuk, de categorieën en het geschatte "
            "aantal betrokkenen, de waarschijnlijke gevolgen en de genomen of voorgestelde "
            "maatregelen.",
        ],
    ),
    (
        "Audit",
        [
            "De Verwerker stelt alle informatie ter beschikking die nodig is om de nakoming van deze "
            "Overeenkomst aan te tonen. De Verwerkingsverantwoordelijke mag op eigen kosten, ten "
            "hoogste eenmaal per kalenderjaar en na een aankondiging van ten minste veertien (14) "
            "dagen, een audit laten uitvoeren door een onafhankelijke deskundige die tot "
            "geheimhouding is gehouden.",
        ],
    ),
    (
        "Aansprakelijkheid",
        [
            "De aansprakelijkheid van Partijen wordt beheerst door artikel 82 van de AVG en, voor het "
            "overige, door de bepalingen van de Hoofdovereenkomst.",
        ],
    ),
    (
        "Duur en beëindiging",
        [
            "Deze Overeenkomst geldt zolang de Hoofdovereenkomst loopt.",
            "Na het einde van de Hoofdovereenkomst stelt de Verwerker de Persoonsgegevens gedurende "
            "dertig (30) dagen ter beschikking voor export, waarna hij ze verwijdert, met inbegrip "
            "van bestaande kopieën, tenzij opslag ervan wettelijk verplicht is.",
        ],
    ),
    (
        "Toepasselijk recht en bevoegde rechtbank",
        [
            "Deze Overeenkomst wordt beheerst door het Belgische recht. Geschillen worden uitsluitend "
            "voorgelegd aan de rechtbanken van het gerechtelijk arrondissement Oost-Vlaanderen, "
            "afdeling Gent.",
        ],
    ),
]

ANNEX = [
    (
        "Onderwerp van de verwerking",
        "Het plannen van afspraken, diensten, prestaties en verlof van de medewerkers van de "
        "Verwerkingsverantwoordelijke via het platform Planado.",
    ),
    ("Duur van de verwerking", "Gelijk aan de looptijd van de Hoofdovereenkomst."),
    (
        "Aard en doeleinden van de verwerking",
        "Opslag, raadpleging, wijziging en verwijdering van gegevens in het platform; het versturen "
        "van herinneringen per e-mail en sms; het opmaken van overzichten van gewerkte uren.",
    ),
    ("Soorten persoonsgegevens", ""),
    ("Categorieën van betrokkenen", ""),
    ("Bewaartermijn", "Dertig (30) dagen na het einde van de Hoofdovereenkomst."),
    ("Functionaris voor gegevensbescherming van de Verwerkingsverantwoordelijke", ""),
    ("E-mailadres functionaris", ""),
    ("Telefoonnummer functionaris", ""),
]


def main() -> None:
    doc = Document()
    for section in doc.sections:
        section.left_margin = section.right_margin = Cm(2.3)
    numbering(doc)
    styles(doc)

    doc.add_paragraph("Verwerkersovereenkomst", style="Title")
    doc.add_paragraph("in de zin van artikel 28 van de Algemene Verordening Gegevensbescherming")

    doc.add_paragraph().add_run("TUSSEN:").bold = True
    doc.add_paragraph(
        f"{DOTS}, met maatschappelijke zetel te {DOTS}, ingeschreven in de Kruispuntbank van "
        f"Ondernemingen onder het nummer {DOTS}, hier vertegenwoordigd door {DOTS}, hierna de "
        "“Verwerkingsverantwoordelijke”;"
    )
    doc.add_paragraph().add_run("EN:").bold = True
    doc.add_paragraph(
        "Planado BV, met maatschappelijke zetel te Kortrijksesteenweg 1120, 9051 Gent, "
        "ingeschreven in de Kruispuntbank van Ondernemingen onder het nummer 0745.318.226, hier "
        "vertegenwoordigd door mevrouw Sofie Vandenbroucke, zaakvoerder, hierna de “Verwerker”;"
    )
    doc.add_paragraph("hierna samen de “Partijen” en elk afzonderlijk een “Partij”.")

    doc.add_paragraph().add_run("OVERWEGENDE DAT:").bold = True
    for text in (
        "de Verwerkingsverantwoordelijke het platform Planado van de Verwerker gebruikt op grond "
        "van de Hoofdovereenkomst;",
        "de Verwerker daarbij persoonsgegevens verwerkt voor rekening van de "
        "Verwerkingsverantwoordelijke;",
        "Partijen hun afspraken daarover wensen vast te leggen overeenkomstig artikel 28, lid 3, "
        "van de AVG.",
    ):
        doc.add_paragraph(text, style="Overweging")
    doc.add_paragraph().add_run("KOMEN HET VOLGENDE OVEREEN:").bold = True

    for title, clauses in ARTICLES:
        doc.add_paragraph(title, style="Heading 1")
        for clause in clauses:
            if isinstance(clause, tuple):
                lead, items = clause
                doc.add_paragraph(lead, style="Lid")
                for item in items:
                    doc.add_paragraph(item, style="Opsomming")
            else:
                doc.add_paragraph(clause, style="Lid")

    unnumbered_heading(doc, "Bijlage 1 – Specificatie van de verwerking")
    doc.add_paragraph(
        "Deze bijlage maakt deel uit van de Verwerkersovereenkomst. De Verwerkingsverantwoordelijke "
        "vult de lege vakken aan."
    )
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in ANNEX:
        cells = table.add_row().cells
        cells[0].text = label
        cells[0].paragraphs[0].runs[0].bold = True
        cells[1].text = value
        cells[0].width, cells[1].width = Cm(6), Cm(10)

    doc.add_paragraph()
    doc.add_paragraph(
        f"Opgemaakt te {DOTS} op {DOTS}, in twee exemplaren, waarvan elke Partij erkent er één "
        "te hebben ontvangen."
    )
    signatures = doc.add_table(rows=5, cols=2)
    signatures.alignment = WD_TABLE_ALIGNMENT.CENTER
    rows = [
        ("Voor de Verwerkingsverantwoordelijke", "Voor de Verwerker"),
        (f"Naam: {DOTS}", "Naam: Sofie Vandenbroucke"),
        (f"Functie: {DOTS}", "Functie: zaakvoerder"),
        (f"Datum: {DOTS}", f"Datum: {DOTS}"),
        ("Handtekening:", "Handtekening:"),
    ]
    for row, (left, right) in zip(signatures.rows, rows, strict=True):
        row.cells[0].text, row.cells[1].text = left, right
    for cell in signatures.rows[0].cells:
        cell.paragraphs[0].runs[0].bold = True
    signatures.rows[4].height = Cm(2.5)

    doc.core_properties.title = "Verwerkersovereenkomst Planado"
    doc.core_properties.author = "Planado BV"
    doc.save(OUT)


if __name__ == "__main__":
    main()
