"""Build the reply corpus reproducibly: `python tests/corpus/make_corpus.py` (from the repo root).

Writes tests/corpus/replies/NNN-description.eml (the raw reply as its client sends it) and
NNN-description.json (what a careful human reads in it). The originals the customers reply to are
rendered from the real email templates, so quoted text is exactly what dpabot sends; the PDF form
attachments come from templates.render_pdf(draft=True) with the customer's values set by pikepdf.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from clients import CLIENTS, Case, Forward  # noqa: E402
from mailkit import Customer, load_manifest, make_original, proposals  # noqa: E402
from robots import ROBOTS  # noqa: E402

OUT = HERE / "replies"
P = "="  # expected value: the proposal quoted in the invitation, confirmed

DISCLAIMER_NL = (
    "Dit bericht is vertrouwelijk en uitsluitend bestemd voor de geadresseerde(n). Heeft u dit "
    "bericht per vergissing ontvangen, verwittig dan de afzender en verwijder het bericht. "
    "Elk ander gebruik is verboden."
)
DISCLAIMER_FR = (
    "Ce message est confidentiel et destiné exclusivement à son ou ses destinataire(s). Si vous "
    "l'avez reçu par erreur, merci d'en avertir l'expéditeur et de le supprimer."
)
DISCLAIMER_EN = (
    "This e-mail and any attachments are confidential and intended solely for the addressee. If "
    "you have received it in error, please notify the sender and delete it."
)
ALL5 = ("subject", "duration", "nature_purpose", "data_types", "data_subjects")


def cust(name: str, rep: str, mail: str) -> Customer:
    return Customer(name, rep, mail)


CASES: list[Case] = [
    # ================================================================== Dutch
    Case(
        1,
        "outlook-desktop-nl-numbered-disclaimer",
        "ibeauty",
        "outlook-desktop",
        "nl",
        "invitation",
        cust("Kapsalon Lotte BV", "Lotte Maes", "lotte@kapsalonlotte.be"),
        body="Goedemorgen,\n\nHierbij mijn antwoorden:\n\n1: ok\n2: ok\n3: Afspraken plannen en bevestigen, behandelingen bijhouden en facturen maken\n4: Naam, voornaam, telefoonnummer, e-mailadres, geboortedatum en kleurrecepten\n5: ok\n\nMet vriendelijke groet,",
        sig="Lotte Maes\nZaakvoerder\nKapsalon Lotte BV\nStationsstraat 14, 2800 Mechelen\nT 015 21 43 87\n\n"
        + DISCLAIMER_NL,
        fields={
            "subject": P,
            "duration": P,
            "nature_purpose": "Afspraken plannen en bevestigen, behandelingen bijhouden en facturen maken",
            "data_types": "Naam, voornaam, telefoonnummer, e-mailadres, geboortedatum en kleurrecepten",
            "data_subjects": P,
        },
    ),
    Case(
        2,
        "gmail-nl-labels-wrapped-attribution",
        "ibeauty",
        "gmail",
        "nl",
        "invitation",
        cust("Schoonheidsinstituut Aurora", "Griet Peeters", "griet.peeters.aurora@gmail.com"),
        body="Dag iBeauty,\n\nOnderwerp van de verwerking: online agenda en klantenbestand van het instituut\nDuur: zolang ons abonnement bij iBeauty loopt\nAard en doel: afspraken beheren en herinneringen per sms versturen\nPersoonsgegevens: naam, telefoonnummer, e-mailadres en huidtype\nBetrokkenen: onze klanten\n\nGroetjes\nGriet",
        fields={
            "subject": "online agenda en klantenbestand van het instituut",
            "duration": "zolang ons abonnement bij iBeauty loopt",
            "nature_purpose": "afspraken beheren en herinneringen per sms versturen",
            "data_types": "naam, telefoonnummer, e-mailadres en huidtype",
            "data_subjects": "onze klanten",
        },
    ),
    Case(
        3,
        "apple-mail-nl-answer-in-a-sentence",
        "ibeauty",
        "apple-mail",
        "nl",
        "invitation",
        cust("Nagelstudio Bling", "Sarah De Smet", "sarah@nagelstudiobling.be"),
        body="Hallo,\n\nDe duur is gelijk aan de looptijd van het contract met iBeauty. De andere punten bekijk ik nog met mijn vennoot, die stuur ik later door.\n\nVriendelijke groeten,\nSarah De Smet",
        fields={"duration": "gelijk aan de looptijd van het contract met iBeauty"},
        also_accept={
            "duration": ["De duur is gelijk aan de looptijd van het contract met iBeauty"]
        },
    ),
    Case(
        4,
        "thunderbird-nl-inline-under-proposals",
        "ibeauty",
        "thunderbird",
        "nl",
        "invitation",
        cust("Kapsalon Haarmonie", "Wim Claes", "wim@haarmonie.be"),
        body="Hallo,\n\nMijn antwoorden staan tussen de tekst hieronder.\n\nWim",
        inline={
            2: "Klopt.",
            3: "Alleen afspraken plannen en facturen maken, geen nieuwsbrieven.",
            5: "Enkel klanten, wij hebben geen personeel.",
        },
        fields={
            "duration": P,
            "nature_purpose": "Alleen afspraken plannen en facturen maken, geen nieuwsbrieven.",
            "data_subjects": "Enkel klanten, wij hebben geen personeel.",
        },
    ),
    Case(
        5,
        "ios-mail-nl-final-akkoord",
        "ibeauty",
        "ios-mail",
        "nl",
        "final",
        cust("MOOI Schoonheidsverzorging", "Karolien Piskor", "karolien@mooi-schoonheid.be"),
        body="AKKOORD",
        accept=True,
    ),
    Case(
        6,
        "outlook-web-nl-final-ik-ga-akkoord",
        "ibeauty",
        "outlook-web",
        "nl",
        "final",
        cust("Wellness De Linde", "Bart Wouters", "bart@wellnessdelinde.be"),
        body="Goedemiddag,\n\nIk ga akkoord met de verwerkersovereenkomst.\n\nMet vriendelijke groeten,\nBart Wouters\nWellness De Linde",
        accept=True,
    ),
    Case(
        7,
        "samsung-nl-final-decline",
        "ibeauty",
        "samsung-email",
        "nl",
        "final",
        cust("Barbershop Sami", "Sami El Amrani", "sami@barbershopsami.be"),
        body="Wij gaan niet akkoord met deze overeenkomst. We stoppen eind dit jaar met de software van iBeauty.\n\nSami",
        decline=True,
    ),
    Case(
        8,
        "outlook-desktop-nl-final-change-article-12",
        "ibeauty",
        "outlook-desktop",
        "nl",
        "final",
        cust("Huidkliniek Dermavita BV", "An Vermeulen", "an.vermeulen@dermavita.be"),
        body="Geachte,\n\nWij hebben de overeenkomst laten nakijken door onze jurist. In artikel 12 willen we 'alleen en volledig' vervangen door 'overeenkomstig artikel 82 AVG'. Daarna tekenen we graag.\n\nMet vriendelijke groeten,",
        sig="Dr. An Vermeulen\nMedisch directeur\nHuidkliniek Dermavita BV\n\n" + DISCLAIMER_NL,
        change_requests=["12"],
        notes="'Daarna tekenen we graag' is a promise, not an acceptance; 'artikel 82 AVG' is part of the requested text, not a second request.",
    ),
    Case(
        9,
        "gmail-nl-question-accountant",
        "ibeauty",
        "gmail",
        "nl",
        "invitation",
        cust("Kapsalon Marleen", "Marleen Jacobs", "kapsalonmarleen@telenet.be"),
        body="Goedendag,\n\n1: ok\n2: ok\n\nMoet ik dit ook laten tekenen door mijn boekhouder? De rest vul ik in zodra ik dat weet.\n\nMarleen",
        fields={"subject": P, "duration": P},
        questions=1,
    ),
    Case(
        10,
        "exchange-autoreply-nl",
        "ibeauty",
        "exchange-autoreply",
        "nl",
        "invitation",
        cust("Instituut Belle", "Nathalie Hermans", "nathalie@instituutbelle.be"),
        auto_reply=True,
    ),
    Case(
        11,
        "postfix-bounce-nl",
        "ibeauty",
        "postfix-dsn",
        "nl",
        "invitation",
        cust("Kapsalon Nova", "Eva Lenaerts", "eva@kapsalon-nova.be"),
        bounce=True,
        notes="The returned invitation (message/rfc822) holds every proposal: none is an answer.",
    ),
    Case(
        12,
        "outlook-2010-nl-oorspronkelijk-bericht-multiline",
        "ibeauty",
        "outlook-2010",
        "nl",
        "invitation",
        cust("Pedicure Voetje", "Rita Goossens", "rita.goossens@skynet.be"),
        body="Beste,\n\n3) Afspraken plannen,\nbehandelingen van de voeten opvolgen (medische pedicure)\nen facturen opmaken\n4) Naam, adres, telefoon, e-mail,\nmedische gegevens zoals diabetes en allergieën\n\nGroeten,\nRita Goossens",
        fields={
            "nature_purpose": "Afspraken plannen, behandelingen van de voeten opvolgen (medische pedicure) en facturen opmaken",
            "data_types": "Naam, adres, telefoon, e-mail, medische gegevens zoals diabetes en allergieën",
        },
    ),
    Case(
        13,
        "gmail-nl-answered-twice",
        "ibeauty",
        "gmail",
        "nl",
        "invitation",
        cust("Zonnestudio Sunny", "Jens Mertens", "jens.mertens.sunny@gmail.com"),
        body="Hallo,\n\n1: ok\n2: 1 jaar\n3: ok\n\nSorry, mijn antwoord op 2 klopt niet, het moet zijn:\n2: zolang ons abonnement bij iBeauty loopt\n\nJens",
        fields={
            "subject": P,
            "duration": "zolang ons abonnement bij iBeauty loopt",
            "nature_purpose": P,
        },
    ),
    Case(
        14,
        "thunderbird-html-nl-misspelled-label",
        "ibeauty",
        "thunderbird",
        "nl",
        "invitation",
        cust("Massagepraktijk Zen", "Tom Peeters", "tom@massagezen.be"),
        variant="html",
        body="Beste,\n\nOnderwrp van de verwerking: klantenbestand en online agenda van de massagepraktijk\nSoort persoonsgegevens: naam, telefoonnummer, e-mailadres, gezondheidsklachten die de klant meldt\n\nGroeten,\nTom",
        fields={
            "subject": "klantenbestand en online agenda van de massagepraktijk",
            "data_types": "naam, telefoonnummer, e-mailadres, gezondheidsklachten die de klant meldt",
        },
    ),
    Case(
        15,
        "apple-mail-nl-filled-pdf-form",
        "ibeauty",
        "apple-mail",
        "nl",
        "invitation",
        cust("Beautysalon Lila", "Lila Janssens", "lila@beautysalonlila.be"),
        body="Dag,\n\nIn bijlage het ingevulde formulier.\n\nGroetjes,\nLila",
        pdf={
            "nature_purpose": "Afspraken plannen en klantenfiches bijhouden",
            "data_subjects": "Klanten van de salon",
        },
        notes="All five form fields carry a value in the returned PDF: three unchanged proposals and two new answers.",
    ),
    Case(
        16,
        "outlook-ios-nl-numbered-dots",
        "ibeauty",
        "outlook-ios",
        "nl",
        "invitation",
        cust("Kapsalon Ilse", "Ilse Wuyts", "ilse@kapsalonilse.be"),
        body="1. Ok\n2. Ok\n3. Ok\n4. Ok\n5. Klanten van het kapsalon en onze drie medewerkers",
        fields={
            "subject": P,
            "duration": P,
            "nature_purpose": P,
            "data_types": P,
            "data_subjects": "Klanten van het kapsalon en onze drie medewerkers",
        },
    ),
    Case(
        17,
        "outlook-desktop-nl-forwarded-by-colleague",
        "ibeauty",
        "outlook-desktop",
        "nl",
        "invitation",
        cust("Schoonheidssalon Elegance BV", "Katrien Dewulf", "katrien@elegance-salon.be"),
        forward=Forward(
            cust("Schoonheidssalon Elegance BV", "Joke Maes", "joke@elegance-salon.be"),
            "Katrien,\n\nKan jij dit invullen? Ik weet niet wat we bij 3 moeten zetten.\n\nJoke",
        ),
        body="Beste,\n\nMijn collega stuurde me uw mail door. Hieronder onze antwoorden:\n\n3: Afspraken plannen, klantenkaarten bijhouden en cadeaubonnen verkopen\n4: klopt\n\nVriendelijke groeten,\nKatrien Dewulf",
        fields={
            "nature_purpose": "Afspraken plannen, klantenkaarten bijhouden en cadeaubonnen verkopen",
            "data_types": P,
        },
        notes="The colleague's question in the forwarded part is not the customer's question.",
    ),
    Case(
        18,
        "zimbra-nl-html-only",
        "ibeauty",
        "zimbra",
        "nl",
        "invitation",
        cust("Kapsalon Stijl", "Peter Vos", "peter.vos@kapsalonstijl.be"),
        body="Goedemiddag,\n\n1. Gebruik van de online agenda en kassa van iBeauty\n2. Voor onbepaalde duur, zolang we klant zijn\n5. Klanten\n\nMvg,\nPeter Vos",
        fields={
            "subject": "Gebruik van de online agenda en kassa van iBeauty",
            "duration": "Voor onbepaalde duur, zolang we klant zijn",
            "data_subjects": "Klanten",
        },
    ),
    Case(
        19,
        "gmail-android-nl-final-akkoord-lowercase",
        "ibeauty",
        "gmail",
        "nl",
        "final",
        cust("Kapsalon Jolien", "Jolien Smets", "jolien.smets.kapsalon@gmail.com"),
        variant="android",
        body="akkoord\n\nJolien",
        accept=True,
    ),
    Case(
        20,
        "outlook-web-nl-final-akkoord-and-question",
        "ibeauty",
        "outlook-web",
        "nl",
        "final",
        cust("Spa Aquaria", "Dirk Willems", "dirk@spa-aquaria.be"),
        charset="utf-8",
        body="Akkoord.\n\nWanneer krijg ik het ondertekende document terug?\n\nDirk Willems\nSpa Aquaria",
        accept=True,
        questions=1,
    ),
    Case(
        21,
        "outlook-desktop-nl-also-ten-questions",
        "also",
        "outlook-desktop",
        "nl",
        "invitation",
        cust("Computerwinkel Bytes BV", "Koen Hendrickx", "koen@bytes-computers.be"),
        body="Beste,\n\nOnze antwoorden voor bijvoegsel 2:\n\n1: ok\n2: ok\n3: Naam, adres, e-mailadres en telefoonnummer van onze klanten\n4: ok\n5: klopt\n6: ok\n7: Klanten en medewerkers\n8: ok\n9: ok\n10: ok\n\nMet vriendelijke groeten,",
        sig="Koen Hendrickx\nBytes BV",
        fields={
            "subject": P,
            "duration": P,
            "also_table_data": "Naam, adres, e-mailadres en telefoonnummer van onze klanten",
            "nature_purpose": P,
            "also_table_subjects": P,
            "data_types": P,
            "data_subjects": "Klanten en medewerkers",
            "dpo_name": P,
            "dpo_phone": P,
            "dpo_email": P,
        },
    ),
    Case(
        22,
        "gmail-nl-clauses-labels",
        "clauses",
        "gmail",
        "nl",
        "invitation",
        cust("Bakkerij Van Damme BV", "Els Van Damme", "els.vandamme.bakkerij@gmail.com"),
        body="Dag,\n\nOnderwerp: hosting en beheer van onze webwinkel en ons klantenbestand\nLooptijd: zolang de verwerker onze webwinkel host\nDoel: bestellingen verwerken, leveringen plannen en facturen sturen\nGegevens: naam, leveringsadres, telefoonnummer, e-mailadres en bestellingen\nBetrokkenen: klanten van de bakkerij\n\nEls",
        fields={
            "subject": "hosting en beheer van onze webwinkel en ons klantenbestand",
            "duration": "zolang de verwerker onze webwinkel host",
            "nature_purpose": "bestellingen verwerken, leveringen plannen en facturen sturen",
            "data_types": "naam, leveringsadres, telefoonnummer, e-mailadres en bestellingen",
            "data_subjects": "klanten van de bakkerij",
        },
    ),
    Case(
        23,
        "thunderbird-nl-it4pro-bottom-posted-dpo",
        "it4professionals",
        "thunderbird",
        "nl",
        "invitation",
        cust("Atelier Groen BV", "Sofie Claes", "sofie@ateliergroen.be"),
        variant="bottom",
        body="Beste Christophe,\n\n1: ok\n2: ok\n3: Pieter Wouters\n4: 09 123 45 67\n5: privacy@ateliergroen.be\n\nGroeten,\nSofie",
        fields={
            "data_types": P,
            "data_subjects": P,
            "dpo_name": "Pieter Wouters",
            "dpo_phone": "09 123 45 67",
            "dpo_email": "privacy@ateliergroen.be",
        },
    ),
    Case(
        24,
        "outlook-web-nl-number-and-label",
        "ibeauty",
        "outlook-web",
        "nl",
        "invitation",
        cust("Kinesitherapie Vitaal", "Hanne Pauwels", "hanne@kine-vitaal.be"),
        charset="utf-8",
        body="Beste,\n\n3. Aard en doel van de verwerking: afspraken plannen en herinneringen sturen per sms en e-mail\n4. Soort persoonsgegevens die worden verwerkt: naam, voornaam, telefoonnummer, e-mailadres\n\nMvg\nHanne",
        fields={
            "nature_purpose": "afspraken plannen en herinneringen sturen per sms en e-mail",
            "data_types": "naam, voornaam, telefoonnummer, e-mailadres",
        },
    ),
    Case(
        25,
        "gmail-nl-all-proposals-confirmed",
        "ibeauty",
        "gmail",
        "nl",
        "invitation",
        cust("Kapsalon Ruben", "Ruben Maes", "ruben@kapsalonruben.be"),
        body="Hallo,\n\nAlle voorstellen kloppen, u mag de definitieve versie sturen.\n\nRuben",
        fields={f: P for f in ALL5},
        notes="A blanket confirmation of all five proposals, without numbers.",
    ),
    Case(
        26,
        "sieve-vacation-nl",
        "ibeauty",
        "sieve-vacation",
        "nl",
        "invitation",
        cust("Kapsalon Fien", "Fien Aerts", "fien@kapsalonfien.be"),
        auto_reply=True,
    ),
    Case(
        27,
        "webmail-autoreply-nl-no-auto-submitted",
        "ibeauty",
        "webmail-autoreply",
        "nl",
        "invitation",
        cust("Kapper Kris", "Kris Peeters", "kris@kapperkris.be"),
        auto_reply=True,
        notes="No Auto-Submitted header: only X-Autoreply, the subject and the words say it.",
    ),
    Case(
        28,
        "exchange-ndr-nl-mailbox-full",
        "ibeauty",
        "exchange-ndr",
        "nl",
        "invitation",
        cust("Instituut Sereen", "Lien Hermans", "lien@instituutsereen.be"),
        bounce=True,
    ),
    Case(
        29,
        "outlook-desktop-nl-inline-blue-answers",
        "ibeauty",
        "outlook-desktop",
        "nl",
        "invitation",
        cust("Salon Rosa", "Rosa Lambrechts", "rosa@salonrosa.be"),
        body="Dag,\n\nZie mijn antwoorden hieronder in het blauw (=>).\n\nRosa",
        inline={1: "ok", 3: "Enkel afspraken en facturen", 4: "ok"},
        fields={"subject": P, "nature_purpose": "Enkel afspraken en facturen", "data_types": P},
        notes="Outlook does not mark quoted lines: the answers are the '=>' lines typed into the original (blue in HTML).",
    ),
    Case(
        30,
        "samsung-nl-klopt",
        "ibeauty",
        "samsung-email",
        "nl",
        "invitation",
        cust("Nagelbar Nina", "Nina Vermeiren", "nina@nagelbarnina.be"),
        body="1: klopt\n2: klopt\n3: klopt\n4: Naam, gsm-nummer en e-mail\n5: klopt\n\nNina",
        fields={
            "subject": P,
            "duration": P,
            "nature_purpose": P,
            "data_types": "Naam, gsm-nummer en e-mail",
            "data_subjects": P,
        },
    ),
    Case(
        31,
        "outlook-desktop-nl-clauses-final-akkoord",
        "clauses",
        "outlook-desktop",
        "nl",
        "final",
        cust("Bakkerij Peeters BV", "Jan Peeters", "jan@bakkerijpeeters.be"),
        charset="utf-8",
        cte="base64",
        body="AKKOORD\n\nJan Peeters",
        accept=True,
        notes="Outlook set to send UTF-8: both parts base64.",
    ),
    # ================================================================== French
    Case(
        32,
        "outlook-desktop-fr-numbered-disclaimer",
        "ibeauty",
        "outlook-desktop",
        "fr",
        "invitation",
        cust("Institut Belle Peau SRL", "Sophie Lambert", "sophie.lambert@bellepeau.be"),
        body="Bonjour,\n\nVoici nos réponses :\n\n1 : ok\n2 : c'est correct\n3 : Gestion des rendez-vous, suivi des soins et facturation\n4 : Nom, prénom, téléphone, adresse e-mail, date de naissance et allergies\n5 : ok\n\nBien à vous,",
        sig="Sophie Lambert\nGérante – Institut Belle Peau SRL\nRue de la Station 12, 5000 Namur\n\n"
        + DISCLAIMER_FR,
        fields={
            "subject": P,
            "duration": P,
            "nature_purpose": "Gestion des rendez-vous, suivi des soins et facturation",
            "data_types": "Nom, prénom, téléphone, adresse e-mail, date de naissance et allergies",
            "data_subjects": P,
        },
    ),
    Case(
        33,
        "gmail-fr-labels",
        "ibeauty",
        "gmail",
        "fr",
        "invitation",
        cust("Salon Élégance", "Julie Dubois", "julie.dubois.coiffure@gmail.com"),
        body="Bonjour,\n\nObjet du traitement : agenda en ligne et fichier clients du salon\nDurée : pendant toute la durée de notre abonnement\nFinalité : prise de rendez-vous et envoi de rappels par SMS\nDonnées personnelles : nom, prénom, numéro de GSM, e-mail\nPersonnes concernées : nos clientes\n\nCordialement,\nJulie Dubois",
        fields={
            "subject": "agenda en ligne et fichier clients du salon",
            "duration": "pendant toute la durée de notre abonnement",
            "nature_purpose": "prise de rendez-vous et envoi de rappels par SMS",
            "data_types": "nom, prénom, numéro de GSM, e-mail",
            "data_subjects": "nos clientes",
        },
    ),
    Case(
        34,
        "apple-mail-fr-c-est-correct",
        "ibeauty",
        "apple-mail",
        "fr",
        "invitation",
        cust("Beauté Divine SRL", "Claire Martin", "claire@beautedivine.be"),
        body="Bonjour,\n\n1 : c'est correct\n2 : c'est correct\n3 : c'est correct\n4 : nom, prénom, coordonnées et historique des soins\n5 : les clientes de l'institut\n\nBelle journée,\nClaire",
        fields={
            "subject": P,
            "duration": P,
            "nature_purpose": P,
            "data_types": "nom, prénom, coordonnées et historique des soins",
            "data_subjects": "les clientes de l'institut",
        },
    ),
    Case(
        35,
        "ios-mail-fr-final-d-accord",
        "ibeauty",
        "ios-mail",
        "fr",
        "final",
        cust("Coiffure Nadia", "Nadia Benali", "nadia.benali@icloud.com"),
        body="D'ACCORD",
        accept=True,
    ),
    Case(
        36,
        "samsung-fr-final-curly-d-accord",
        "ibeauty",
        "samsung-email",
        "fr",
        "final",
        cust("Spa Sérénité", "Marc Leroy", "marc@spa-serenite.be"),
        body="Je suis d\u2019accord.\n\nMarc Leroy",
        accept=True,
    ),
    Case(
        37,
        "thunderbird-fr-final-j-accepte",
        "ibeauty",
        "thunderbird",
        "fr",
        "final",
        cust("Onglerie Perle", "Isabelle Petit", "isabelle@onglerieperle.be"),
        body="Bonjour,\n\nJ'accepte la convention telle quelle.\n\nCordialement,\nIsabelle Petit",
        accept=True,
    ),
    Case(
        38,
        "outlook-web-fr-final-decline",
        "ibeauty",
        "outlook-web",
        "fr",
        "final",
        cust("Barbier Antoine", "Antoine Lefèvre", "antoine@barbier-antoine.be"),
        body="Bonjour,\n\nNous ne sommes pas d'accord avec cette convention et nous ne la signerons pas. Nous avons choisi un autre logiciel.\n\nCordialement,\nAntoine Lefèvre",
        decline=True,
    ),
    Case(
        39,
        "outlook-desktop-fr-final-change-article-5",
        "ibeauty",
        "outlook-desktop",
        "fr",
        "final",
        cust("Clinique Esthétique Lumière SA", "Pierre Renard", "p.renard@clinique-lumiere.be"),
        body="Madame, Monsieur,\n\nPourriez-vous modifier l'article 5 afin que nous soyons informés au moins 30 jours à l'avance de tout nouveau sous-traitant ? Nous signerons ensuite la version corrigée.\n\nBien cordialement,",
        sig="Dr Pierre Renard\nDirecteur médical\nClinique Esthétique Lumière SA\n\n"
        + DISCLAIMER_FR,
        change_requests=["5"],
        notes="A change request phrased as a question: counted as a change request, not as a question (questions=0).",
    ),
    Case(
        40,
        "gmail-fr-question-comptable",
        "ibeauty",
        "gmail",
        "fr",
        "invitation",
        cust("Institut Zen Attitude", "Valérie Simon", "valerie.simon.zen@gmail.com"),
        body="Bonjour,\n\n1 : ok\n2 : ok\n\nDois-je aussi faire signer ce document par mon comptable ?\n\nMerci,\nValérie",
        fields={"subject": P, "duration": P},
        questions=1,
    ),
    Case(
        41,
        "exchange-autoreply-fr",
        "ibeauty",
        "exchange-autoreply",
        "fr",
        "invitation",
        cust("Salon Chic", "Émilie Laurent", "emilie@salonchic.be"),
        auto_reply=True,
    ),
    Case(
        42,
        "outlook-web-fr-multiline-latin1",
        "ibeauty",
        "outlook-web",
        "fr",
        "invitation",
        cust("Institut Douceur", "Anne Moreau", "anne.moreau@institutdouceur.be"),
        body="Bonjour,\n\n4 : Nom, prénom, adresse,\ntéléphone et adresse e-mail,\ndate de naissance et allergies éventuelles\n5 : Clientes et prospects de l'institut\n\nBien à vous,\nAnne Moreau",
        fields={
            "data_types": "Nom, prénom, adresse, téléphone et adresse e-mail, date de naissance et allergies éventuelles",
            "data_subjects": "Clientes et prospects de l'institut",
        },
    ),
    Case(
        43,
        "outlook-2010-fr-message-d-origine",
        "ibeauty",
        "outlook-2010",
        "fr",
        "invitation",
        cust("Parfumerie Rose", "Chantal Dupont", "chantal.dupont@skynet.be"),
        charset="iso-8859-1",
        body="Bonjour,\n\n3) Prise de rendez-vous et facturation des soins\n5) Nos clientes\n\nSalutations,\nChantal Dupont",
        fields={
            "nature_purpose": "Prise de rendez-vous et facturation des soins",
            "data_subjects": "Nos clientes",
        },
    ),
    Case(
        44,
        "gmail-fr-answered-twice",
        "ibeauty",
        "gmail",
        "fr",
        "invitation",
        cust("Coiffure Léa", "Léa Fontaine", "lea.fontaine.coiffure@gmail.com"),
        body="Bonjour,\n\n2 : un an\n5 : nos clients\n\nJe me suis trompée pour la question 2 :\n2 : aussi longtemps que nous utilisons le logiciel d'iBeauty\n\nLéa",
        fields={
            "duration": "aussi longtemps que nous utilisons le logiciel d'iBeauty",
            "data_subjects": "nos clients",
        },
    ),
    Case(
        45,
        "outlook-ios-fr-labels",
        "ibeauty",
        "outlook-ios",
        "fr",
        "invitation",
        cust("Esthétique Camille", "Camille Girard", "camille@esthetique-camille.be"),
        body="Durée : tant que nous sommes clients d'iBeauty\nNature et finalité : agenda, fiches clientes et caisse\n\nCamille",
        fields={
            "duration": "tant que nous sommes clients d'iBeauty",
            "nature_purpose": "agenda, fiches clientes et caisse",
        },
    ),
    Case(
        46,
        "gmail-fr-filled-pdf-form",
        "ibeauty",
        "gmail",
        "fr",
        "invitation",
        cust("Salon Harmonie", "Sandrine Leclercq", "sandrine.leclercq.harmonie@gmail.com"),
        body="Bonjour,\n\nVeuillez trouver ci-joint le formulaire complété.\n\nCordialement,\nSandrine Leclercq",
        pdf={
            "subject": "Agenda en ligne et fichier clients du salon Harmonie",
            "data_types": "Nom, prénom, téléphone, e-mail",
        },
    ),
    Case(
        47,
        "gmail-fr-also-ten-questions",
        "also",
        "gmail",
        "fr",
        "invitation",
        cust("Informatique Dupuis SRL", "Michel Dupuis", "michel.dupuis.it@gmail.com"),
        body="Bonjour,\n\n1 : ok\n2 : ok\n3 : Nom, adresse, e-mail et numéro de téléphone des clients\n4 : Traitement des commandes et support technique\n5 : ok\n6 : ok\n7 : ok\n8 : ok\n9 : ok\n10 : ok\n\nCordialement,\nMichel Dupuis",
        fields={
            "subject": P,
            "duration": P,
            "also_table_data": "Nom, adresse, e-mail et numéro de téléphone des clients",
            "nature_purpose": "Traitement des commandes et support technique",
            "also_table_subjects": P,
            "data_types": P,
            "data_subjects": P,
            "dpo_name": P,
            "dpo_phone": P,
            "dpo_email": P,
        },
    ),
    Case(
        48,
        "outlook-desktop-fr-clauses",
        "clauses",
        "outlook-desktop",
        "fr",
        "invitation",
        cust("Boulangerie Dumont SRL", "Hélène Dumont", "helene@boulangerie-dumont.be"),
        body="Bonjour,\n\n1 : Hébergement de notre boutique en ligne et de notre fichier clients\n2 : Pendant toute la durée du contrat d'hébergement\n3 : ok\n4 : Nom, prénom, adresse de livraison, téléphone, e-mail et commandes\n5 : Clients de la boulangerie\n\nBien à vous,",
        sig="Hélène Dumont\nBoulangerie Dumont SRL\n\n" + DISCLAIMER_FR,
        fields={
            "subject": "Hébergement de notre boutique en ligne et de notre fichier clients",
            "duration": "Pendant toute la durée du contrat d'hébergement",
            "nature_purpose": P,
            "data_types": "Nom, prénom, adresse de livraison, téléphone, e-mail et commandes",
            "data_subjects": "Clients de la boulangerie",
        },
    ),
    Case(
        49,
        "thunderbird-fr-it4pro-dpo-labels",
        "it4professionals",
        "thunderbird",
        "fr",
        "invitation",
        cust("Cabinet Dubois & Associés", "Marc Dubois", "marc.dubois@cabinet-dubois.be"),
        body="Bonjour,\n\nDélégué à la protection des données : Martine Collard\nTéléphone : +32 2 555 12 34\nE-mail du délégué : dpo@cabinet-dubois.be\n\nCordialement,\nMarc Dubois",
        fields={
            "dpo_name": "Martine Collard",
            "dpo_phone": "+32 2 555 12 34",
            "dpo_email": "dpo@cabinet-dubois.be",
        },
    ),
    Case(
        50,
        "gmail-fr-inline-under-labels",
        "ibeauty",
        "gmail",
        "fr",
        "invitation",
        cust("Salon Mélodie", "Aurélie Renard", "aurelie.renard.melodie@gmail.com"),
        body="Bonjour, mes réponses sont dans le texte ci-dessous.\n\nAurélie",
        inline={
            1: "C'est correct.",
            4: "Nom, prénom, téléphone et e-mail uniquement",
            5: "Nos clientes",
        },
        inline_after="label",
        fields={
            "subject": P,
            "data_types": "Nom, prénom, téléphone et e-mail uniquement",
            "data_subjects": "Nos clientes",
        },
        notes="Answers typed right under the quoted question title, above that question's quoted proposal.",
    ),
    Case(
        51,
        "zimbra-fr-html-only",
        "ibeauty",
        "zimbra",
        "fr",
        "invitation",
        cust("Centre Minceur Silhouette", "Nathalie Bernard", "n.bernard@silhouette-minceur.be"),
        body="Bonjour,\n\n1. Agenda en ligne et fichier des clientes\n2. Durée du contrat avec iBeauty\n3. Prise de rendez-vous et suivi des programmes minceur\n\nCordialement\nNathalie Bernard",
        fields={
            "subject": "Agenda en ligne et fichier des clientes",
            "duration": "Durée du contrat avec iBeauty",
            "nature_purpose": "Prise de rendez-vous et suivi des programmes minceur",
        },
    ),
    Case(
        52,
        "exchange-ndr-fr-non-remis",
        "ibeauty",
        "exchange-ndr",
        "fr",
        "invitation",
        cust("Coiffure Sabine", "Sabine Noël", "sabine@coiffure-sabine.be"),
        bounce=True,
    ),
    Case(
        53,
        "gmail-fr-forwarded-by-assistant",
        "ibeauty",
        "gmail",
        "fr",
        "invitation",
        cust("Institut Éclat", "Philippe Marchal", "philippe.marchal.eclat@gmail.com"),
        forward=Forward(
            cust("Institut Éclat", "Laura Vincent", "laura.vincent.eclat@gmail.com"),
            "Philippe, peux-tu compléter ceci ? Je ne sais pas quoi répondre pour le point 4.",
        ),
        body="Bonjour,\n\nJe reprends la demande transmise par ma collègue :\n\n4 : Nom, prénom, téléphone, e-mail et type de peau\n5 : c'est correct\n\nCordialement,\nPhilippe Marchal",
        fields={"data_types": "Nom, prénom, téléphone, e-mail et type de peau", "data_subjects": P},
        notes="The assistant's question sits in the quoted forward: not the customer's question.",
    ),
    Case(
        54,
        "samsung-fr-numbered",
        "ibeauty",
        "samsung-email",
        "fr",
        "invitation",
        cust("Onglerie Chloé", "Chloé Mercier", "chloe@onglerie-chloe.be"),
        body="1 : ok\n2 : ok\n3 : Rendez-vous et fiches clientes\n\nChloé",
        fields={"subject": P, "duration": P, "nature_purpose": "Rendez-vous et fiches clientes"},
    ),
    Case(
        55,
        "gmail-fr-it4pro-final-d-accord",
        "it4professionals",
        "gmail",
        "fr",
        "final",
        cust("Traiteur Lemaire", "Olivier Lemaire", "olivier.lemaire.traiteur@gmail.com"),
        body="Bonjour,\n\nD'accord pour moi.\n\nOlivier Lemaire",
        accept=True,
    ),
    # ================================================================== English
    Case(
        56,
        "outlook-desktop-en-numbered-disclaimer",
        "ibeauty",
        "outlook-desktop",
        "en",
        "invitation",
        cust("Glow Skin Clinic", "Emma Janssens", "emma@glowskinclinic.be"),
        body="Hello,\n\nPlease find our answers below.\n\n1. ok\n2. ok\n3. Booking appointments, keeping treatment records and invoicing\n4. Name, phone number, email address, date of birth and skin type\n5. Our clients\n\nKind regards,",
        sig="Emma Janssens\nManaging director\nGlow Skin Clinic\n\n" + DISCLAIMER_EN,
        fields={
            "subject": P,
            "duration": P,
            "nature_purpose": "Booking appointments, keeping treatment records and invoicing",
            "data_types": "Name, phone number, email address, date of birth and skin type",
            "data_subjects": "Our clients",
        },
    ),
    Case(
        57,
        "gmail-en-labels",
        "ibeauty",
        "gmail",
        "en",
        "invitation",
        cust("The Barber Lounge", "James Peeters", "james.barberlounge@gmail.com"),
        body="Hi,\n\nSubject matter: online booking and client records of the barbershop\nDuration: as long as we use the iBeauty software\nPurpose: managing appointments and sending reminders\nPersonal data: name, mobile number and email address\nData subjects: our customers\n\nCheers,\nJames",
        fields={
            "subject": "online booking and client records of the barbershop",
            "duration": "as long as we use the iBeauty software",
            "nature_purpose": "managing appointments and sending reminders",
            "data_types": "name, mobile number and email address",
            "data_subjects": "our customers",
        },
    ),
    Case(
        58,
        "apple-mail-en-final-i-agree",
        "ibeauty",
        "apple-mail",
        "en",
        "final",
        cust("Lush Lashes", "Chloe Martens", "chloe@lushlashes.be"),
        body="I agree.\n\nChloe Martens\nLush Lashes",
        accept=True,
    ),
    Case(
        59,
        "ios-mail-en-final-approved-plain",
        "ibeauty",
        "ios-mail",
        "en",
        "final",
        cust("Urban Nails", "Mia Jacobs", "mia@urbannails.be"),
        variant="plain",
        body="Approved",
        accept=True,
    ),
    Case(
        60,
        "outlook-web-en-final-decline",
        "ibeauty",
        "outlook-web",
        "en",
        "final",
        cust("Serenity Day Spa", "Oliver Smith", "oliver.smith@serenityspa.be"),
        body="Hello,\n\nWe do not agree with this agreement and will not sign it. We are ending our subscription at the end of the month.\n\nRegards,\nOliver Smith",
        decline=True,
    ),
    Case(
        61,
        "outlook-desktop-en-final-change-article-11-and-question",
        "ibeauty",
        "outlook-desktop",
        "en",
        "final",
        cust("Pure Aesthetics", "Sarah Cole", "s.cole@pureaesthetics.be"),
        body="Dear iBeauty team,\n\nBefore we sign: please change article 11 so that audits are limited to once a year and announced at least 30 days in advance.\n\nAlso, do we need to sign a paper copy as well?\n\nBest regards,",
        sig="Dr Sarah Cole\nPure Aesthetics\n\n" + DISCLAIMER_EN,
        change_requests=["11"],
        questions=1,
    ),
    Case(
        62,
        "gmail-vacation-en-out-of-office",
        "ibeauty",
        "gmail-vacation",
        "en",
        "invitation",
        cust("Beauty Bar", "Lily Evans", "lily.beautybar@gmail.com"),
        auto_reply=True,
    ),
    Case(
        63,
        "exchange-autoreply-en",
        "ibeauty",
        "exchange-autoreply",
        "en",
        "final",
        cust("Skin Studio", "Noah Wilson", "noah@skinstudio.be"),
        auto_reply=True,
    ),
    Case(
        64,
        "gmail-dsn-en-domain-not-found",
        "ibeauty",
        "gmail-dsn",
        "en",
        "invitation",
        cust("Hair by Zoe", "Zoe Adams", "zoe@hairbyzoe.invalid"),
        bounce=True,
    ),
    Case(
        65,
        "outlook-2010-en-original-message",
        "ibeauty",
        "outlook-2010",
        "en",
        "invitation",
        cust("Tanning Studio Sun", "Lucas Brown", "lucas@tanningsun.be"),
        charset="iso-8859-1",
        body="Hi,\n\n1) Fine\n2) Fine\n3) Appointment booking and loyalty card administration\n4) Name, email address and phone number\n\nRegards,\nLucas Brown",
        fields={
            "subject": P,
            "duration": P,
            "nature_purpose": "Appointment booking and loyalty card administration",
            "data_types": "Name, email address and phone number",
        },
        notes="'Fine' confirms the proposal.",
    ),
    Case(
        66,
        "samsung-en-dash-numbers",
        "ibeauty",
        "samsung-email",
        "en",
        "invitation",
        cust("Studio Brows", "Ella Moore", "ella@studiobrows.be"),
        body="1 - ok\n2 - until the end of our contract with iBeauty\n5 - clients and prospects\n\nElla",
        fields={
            "subject": P,
            "duration": "until the end of our contract with iBeauty",
            "data_subjects": "clients and prospects",
        },
    ),
    Case(
        67,
        "thunderbird-en-inline",
        "ibeauty",
        "thunderbird",
        "en",
        "invitation",
        cust("Relax Massage", "Daniel King", "daniel@relaxmassage.be"),
        body="Hello, answers inline below.",
        inline={
            2: "OK",
            3: "Booking appointments and keeping massage notes",
            4: "Name, phone, email, health complaints mentioned by the client",
        },
        sig="Daniel King\nRelax Massage",
        fields={
            "duration": P,
            "nature_purpose": "Booking appointments and keeping massage notes",
            "data_types": "Name, phone, email, health complaints mentioned by the client",
        },
    ),
    Case(
        68,
        "outlook-ios-en-bullet-list",
        "ibeauty",
        "outlook-ios",
        "en",
        "invitation",
        cust("Glam Hair", "Sophie Turner", "sophie@glamhair.be"),
        body="5:\n- clients of the salon\n- prospective clients\n- our two employees\n\nThe rest will follow tomorrow.\n\nSophie",
        fields={"data_subjects": "clients of the salon; prospective clients; our two employees"},
        notes="A multi-line value as a bullet list under '5:'; compared word by word.",
    ),
    Case(
        69,
        "outlook-android-en-final-i-agree",
        "ibeauty",
        "outlook-android",
        "en",
        "final",
        cust("Vita Wellness", "Ben Taylor", "ben@vitawellness.be"),
        body="I agree\n\nBen",
        accept=True,
    ),
    Case(
        70,
        "outlook-desktop-en-filled-pdf-form",
        "ibeauty",
        "outlook-desktop",
        "en",
        "invitation",
        cust("Bella Skin Care", "Laura Wright", "laura@bellaskincare.be"),
        body="Hello,\n\nPlease find the completed form attached.\n\nKind regards,",
        sig="Laura Wright\nBella Skin Care",
        pdf={
            "duration": "Until the end of our subscription",
            "data_types": "Name, phone number, email address",
        },
    ),
    Case(
        71,
        "outlook-web-en-also-ten-questions",
        "also",
        "outlook-web",
        "en",
        "invitation",
        cust("TechPoint", "Robert Evans", "robert.evans@techpoint.be"),
        body="Hello,\n\n1: ok\n2: ok\n3: ok\n4: Order processing, technical support and cloud services\n5: ok\n6: ok\n7: Employees, customers and suppliers\n8: ok\n9: ok\n10: ok\n\nRegards,\nRobert Evans",
        fields={
            "subject": P,
            "duration": P,
            "also_table_data": P,
            "nature_purpose": "Order processing, technical support and cloud services",
            "also_table_subjects": P,
            "data_types": P,
            "data_subjects": "Employees, customers and suppliers",
            "dpo_name": P,
            "dpo_phone": P,
            "dpo_email": P,
        },
    ),
    Case(
        72,
        "apple-mail-en-clauses-labels",
        "clauses",
        "apple-mail",
        "en",
        "invitation",
        cust("Green Bakery", "Hannah Lee", "hannah@greenbakery.be"),
        body="Hi,\n\nSubject matter: hosting of our web shop and customer file\nDuration: as long as the hosting contract runs\nNature and purpose: processing orders and sending invoices\nType of personal data: name, delivery address, phone, email\nCategories of data subjects: customers of the bakery\n\nBest,\nHannah",
        fields={
            "subject": "hosting of our web shop and customer file",
            "duration": "as long as the hosting contract runs",
            "nature_purpose": "processing orders and sending invoices",
            "data_types": "name, delivery address, phone, email",
            "data_subjects": "customers of the bakery",
        },
    ),
    Case(
        73,
        "gmail-en-it4pro-dpo",
        "it4professionals",
        "gmail",
        "en",
        "invitation",
        cust("Atelier Blue", "Kevin Baert", "kevin.baert.atelierblue@gmail.com"),
        body="Hello Christophe,\n\n1: ok\n2: ok\n3: Jan De Vos\n4: +32 470 12 34 56\n5: dpo@atelierblue.be\n\nKind regards,\nKevin Baert",
        fields={
            "data_types": P,
            "data_subjects": P,
            "dpo_name": "Jan De Vos",
            "dpo_phone": "+32 470 12 34 56",
            "dpo_email": "dpo@atelierblue.be",
        },
    ),
    Case(
        74,
        "zimbra-en-html-only",
        "ibeauty",
        "zimbra",
        "en",
        "invitation",
        cust("Oasis Spa", "Grace Hall", "grace@oasisspa.be"),
        body="Hello,\n\nDuration: for as long as we use the salon software\nData subjects: spa guests and members\n\nRegards,\nGrace Hall",
        fields={
            "duration": "for as long as we use the salon software",
            "data_subjects": "spa guests and members",
        },
    ),
    Case(
        75,
        "outlook-desktop-en-final-approved-disclaimer",
        "clauses",
        "outlook-desktop",
        "en",
        "final",
        cust("Northside Dental", "Peter Hughes", "p.hughes@northsidedental.be"),
        body="Approved.\n\nPeter",
        sig="Peter Hughes\nPractice manager\nNorthside Dental\n\n" + DISCLAIMER_EN,
        accept=True,
    ),
]


def render_form(case: Case, known: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    import pikepdf

    from templates import render_pdf

    values = {**known}
    data = {
        "processor": {"name": case.original.tenant.name},
        "fields": {
            "customer_name": case.customer.name,
            "customer_representative": case.customer.rep,
            **{k: v for k, v in values.items() if v},
        },
        "version": 1,
    }
    raw = render_pdf(case.template, data, draft=True)
    pdf = pikepdf.open(io.BytesIO(raw))
    form: dict[str, str] = {}
    for f in pdf.Root.AcroForm.Fields:
        fid = str(f.get("/T"))
        if fid in case.pdf:
            f.V = pikepdf.String(case.pdf[fid])
        form[fid] = str(f.get("/V", ""))
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue(), {k: v for k, v in form.items() if v}


def mime_summary(raw: bytes) -> dict[str, object]:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    parts = []
    for p in msg.walk():
        if p.get_content_maintype() == "multipart" or p.get_content_type() in (
            "message/rfc822",
            "message/delivery-status",
        ):
            continue
        if (
            p.get_content_maintype() == "text"
            and p is not msg
            and any(
                q.get_content_type() == "message/rfc822" and p in list(q.walk())[1:]
                for q in msg.walk()
            )
        ):
            continue
        parts.append(
            {
                "type": p.get_content_type(),
                "charset": (p.get_content_charset() or "")
                if p.get_content_maintype() == "text"
                else "",
                "cte": str(p.get("Content-Transfer-Encoding", "7bit")).lower(),
            }
        )
    return {"top": msg.get_content_type(), "parts": parts}


def build(case: Case) -> tuple[bytes, dict]:
    known = {k: v for k, v in proposals(case.template).items() if v}
    case.original = make_original(case.kind, case.template, case.lang, case.customer, case.n, known)
    fields = {k: (known[k] if v == P else v) for k, v in case.fields.items()}
    if case.pdf:
        case.pdf_bytes, form = render_form(case, known)
        case.pdf_name = (
            f"Verwerkersovereenkomst {case.original.tenant.name} {case.customer.name}.pdf".replace(
                "/", "-"
            )
        )
        case.pdf_name = case.pdf_name.encode("ascii", "ignore").decode() or "overeenkomst.pdf"
        fields = form
    builder = CLIENTS.get(case.client) or ROBOTS[case.client]
    raw = builder(case)
    annex_ids = {f.id for f in load_manifest(case.template).annex_fields}
    assert set(fields) <= annex_ids, (case.n, set(fields) - annex_ids)
    meta = {
        "template": case.template,
        "client": case.client,
        "language": case.lang,
        "replies_to": case.original.kind,
        "known": known,
        "expected": {
            "fields": fields,
            "accept": case.accept,
            "decline": case.decline,
            "auto_reply": case.auto_reply,
            "bounce": case.bounce,
            "change_requests": [{"article": a} for a in case.change_requests],
            "questions": case.questions,
        },
        "mime": mime_summary(raw),
    }
    if case.also_accept:
        meta["also_accept"] = case.also_accept
    if case.notes:
        meta["notes"] = case.notes
    return raw, meta


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.eml"):
        old.unlink()
    for old in OUT.glob("*.json"):
        old.unlink()
    stats: dict[str, Counter] = {
        "client": Counter(),
        "language": Counter(),
        "template": Counter(),
        "charset": Counter(),
        "cte": Counter(),
    }
    for case in CASES:
        raw, meta = build(case)
        name = f"{case.n:03d}-{case.slug}"
        (OUT / f"{name}.eml").write_bytes(raw)
        (OUT / f"{name}.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        stats["client"][case.client] += 1
        stats["language"][case.lang] += 1
        stats["template"][case.template] += 1
        for p in meta["mime"]["parts"]:
            if p["charset"]:
                stats["charset"][p["charset"].lower()] += 1
            stats["cte"][p["cte"]] += 1
    print(f"{len(CASES)} replies written to {OUT}")
    for k, c in stats.items():
        print(f"{k:9} " + ", ".join(f"{n}={v}" for n, v in sorted(c.items(), key=lambda x: -x[1])))


if __name__ == "__main__":
    main()
