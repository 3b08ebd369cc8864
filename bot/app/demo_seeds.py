"""The demo's seeds (shared/seeds 000–004): for each, the tenant (processor), the customer and
the customer's reply answering the template's annex questions, in Dutch.

Tenants and customers are the seeds' own parties; where a seed names none (the customer of
002, the processor of 003) they are the template's example data or made up, and say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.settings import MailSettings, TenantSettings


@dataclass(frozen=True)
class DemoSeed:
    seed: str
    tenant: TenantSettings
    customer: dict[str, str]  # name, representative, email, [enterprise_number], [function]
    answers: str  # the customer's reply to the invitation (numbered as the annex questions)

    @property
    def signer(self) -> str:
        return self.customer["representative"]


def _tenant(slug: str, name: str, template: str, address: str, **more: str) -> TenantSettings:
    return TenantSettings(
        slug=slug,
        name=name,
        template=template,
        mail=MailSettings(address=address, display_name=name, transport="maildir"),
        **more,  # type: ignore[arg-type]
    )


IBEAUTY = _tenant(
    "ibeauty",
    "iBeauty BVBA",
    "ibeauty",
    "dpa@ibeauty.example",
    enterprise_number="BE0662.785.756",
    representative="Michel Smekens",
    representative_function="Zaakvoerder",
    place="Antwerpen",
)
# Seed 002 names ALSO België's DPO but no representative: a made-up signatory for the demo.
ALSO = _tenant(
    "also",
    "ALSO België",
    "also",
    "privacy@also-belgie.example",
    representative="Ferdinand Hiddink",
    representative_function="Functionaris voor gegevensbescherming",
    place="Brussel",
)
# Seed 003 names no processor: the template's example processor.
CLAUSES = _tenant(
    "clauses",
    "Verwerker BV",
    "clauses",
    "dpa@verwerker.example",
    enterprise_number="BE0721.448.683",
    representative="Jan Peeters",
    representative_function="Zaakvoerder",
    place="Antwerpen",
)
IT4PROFESSIONALS = _tenant(
    "it4professionals",
    "IT4Professionals",
    "it4professionals",
    "dpa@it4professionals.example",
    enterprise_number="BE0863.643.458",
    representative="Christophe Zenner",
    representative_function="Zaakvoerder",
)


def _reply(greeting: str, lines: list[str], name: str, company: str) -> str:
    numbered = "\n".join(f"{i}. {text}" for i, text in enumerate(lines, start=1))
    return f"{greeting}\n\n{numbered}\n\nMet vriendelijke groeten,\n{name}\n{company}\n"


SEEDS: dict[str, DemoSeed] = {
    "000": DemoSeed(
        "000",
        IBEAUTY,
        {
            "name": "MOOI Schoonheidsverzorging",
            "enterprise_number": "BE0840.465.705",
            "representative": "Karolien Piskor",
            "representative_function": "Zaakvoerder",
            "email": "karolien@mooi-schoonheid.example",
        },
        """Beste,

Hierbij onze antwoorden voor bijlage 1:

1. Onderwerp van de verwerking: Beheer van het klantenbestand en de afspraken van het
schoonheidsinstituut in de salonsoftware van iBeauty.
2: Zolang de overeenkomst voor de salonsoftware loopt.
3) Registratie van klantgegevens, afspraken, behandelingen en facturatie.
4. Naam, adres, telefoonnummer, e-mailadres, geboortedatum en behandelingshistoriek.
5. Klanten van het schoonheidsinstituut.

Met vriendelijke groeten,
Karolien Piskor
MOOI Schoonheidsverzorging
""",
    ),
    "001": DemoSeed(
        "001",
        IBEAUTY,
        {
            "name": "UTOPIA",
            "representative": "Tineke Verellen",
            "representative_function": "Zaakvoerder",
            "email": "tineke@utopia-salon.example",
        },
        _reply(
            "Dag Michel,\n\nHier zijn de antwoorden voor bijlage 1:",
            [
                "Gebruik van de online agenda, het klantenbestand en de kassa van iBeauty "
                "voor de afspraken van salon UTOPIA.",
                "Zolang wij de software van iBeauty gebruiken.",
                "Afspraken plannen en bevestigen, behandelingen bijhouden en factureren.",
                "Naam, telefoonnummer, e-mailadres, geboortedatum en notities over allergieën.",
                "Klanten van de salon en onze medewerkers.",
            ],
            "Tineke Verellen",
            "UTOPIA",
        ),
    ),
    # Seed 002 leaves the customer blank: a made-up accountancy firm.
    "002": DemoSeed(
        "002",
        ALSO,
        {
            "name": "Boekhoudkantoor Lambrecht BV",
            "enterprise_number": "BE0403.170.701",
            "representative": "Hilde Lambrecht",
            "representative_function": "Bestuurder",
            "email": "hilde@lambrecht-boekhouding.example",
        },
        _reply(
            "Goedemiddag,\n\nOnze antwoorden op de vragen van bijvoegsel 2:",
            [
                "Levering en onderhoud van onze laptops en de cloudopslag van het kantoor.",
                "Zolang het onderhoudscontract met ALSO loopt.",
                "Naam, adres, contactgegevens en bankrekeningnummers van onze klanten.",
                "Technische ondersteuning en het beheer van de clouddiensten van het kantoor.",
                "Onze medewerkers en de klanten van het boekhoudkantoor.",
                "Contactgegevens, facturatiegegevens en boekhoudstukken van klanten.",
                "Medewerkers, klanten en leveranciers van het kantoor.",
                "Ferdinand Hiddink",
                "+31 6 83237910",
                "ferdinand.hiddink@also.example",
            ],
            "Hilde Lambrecht",
            "Boekhoudkantoor Lambrecht BV",
        ),
    ),
    "003": DemoSeed(
        "003",
        CLAUSES,
        {
            "name": "Bakkerij Van Damme BV",
            "enterprise_number": "BE0689.305.754",
            "representative": "Els Van Damme",
            "representative_function": "Bestuurder",
            "email": "els@bakkerijvandamme.example",
        },
        _reply(
            "Beste Jan,\n\nHierbij de antwoorden voor bijlage 1:",
            [
                "Hosting en beheer van onze webwinkel en ons klantenbestand.",
                "Zolang Verwerker BV onze webwinkel host en beheert.",
                "Bestellingen verwerken, leveringen plannen en factureren.",
                "Naam, leveringsadres, telefoonnummer, e-mailadres en bestelgegevens.",
                "Klanten van de bakkerij en onze medewerkers die de webwinkel beheren.",
            ],
            "Els Van Damme",
            "Bakkerij Van Damme BV",
        ),
    ),
    "004": DemoSeed(
        "004",
        IT4PROFESSIONALS,
        {
            "name": "Atelier Groen BV",
            "representative": "Sofie Claes",
            "representative_function": "Zaakvoerder",
            "email": "sofie@ateliergroen.example",
        },
        _reply(
            "Dag Christophe,\n\nHier zijn onze antwoorden voor bijlage 1:",
            [
                "Naam, adres, telefoonnummer en e-mailadres van de contactpersonen in onze "
                "nieuwsbrieflijst, en de inschrijvingen voor onze workshops.",
                "Klanten, abonnees van de nieuwsbrief en deelnemers aan workshops.",
                "Pieter Wouters",
                "+32 9 123 45 67",
                "privacy@ateliergroen.example",
            ],
            "Sofie Claes",
            "Atelier Groen BV",
        ),
    ),
}

DEFAULT_SEED = "000"
