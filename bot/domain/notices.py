"""Short explanations a follow-up mail gives a customer, in each mail language."""

from __future__ import annotations

_NOTICES: dict[str, dict[str, str]] = {
    "not_counted": {
        "nl": "Uw akkoord telt pas als antwoord op de e-mail met de definitieve versie van de "
        "overeenkomst, zonder verdere wijzigingen. Die ontvangt u zodra alle gegevens "
        "volledig zijn; antwoord dan op die e-mail met AKKOORD.",
        "fr": "Votre accord ne compte qu'en réponse à l'e-mail contenant la version définitive "
        "de la convention, sans autre modification. Vous la recevrez dès que toutes les "
        "données seront complètes ; répondez alors à cet e-mail par D'ACCORD.",
        "en": "Your agreement only counts as a reply to the email with the final version of "
        "the agreement, without further changes. You will receive it once all details are "
        "complete; then reply to that email with I AGREE.",
    },
    "resend_final": {
        "nl": "Uw akkoord werd niet geteld: het antwoordde niet op de e-mail met de huidige "
        "versie van de overeenkomst, of noemde die versie niet. De huidige versie is versie "
        "{version}, kenmerk {fingerprint}; u vindt ze in bijlage. Antwoord op deze e-mail met "
        "AKKOORD om ze te ondertekenen.",
        "fr": "Votre accord n'a pas été pris en compte : il ne répondait pas à l'e-mail de la "
        "version actuelle de la convention, ou ne la nommait pas. La version actuelle est la "
        "version {version}, empreinte {fingerprint} ; vous la trouverez en pièce jointe. "
        "Répondez à cet e-mail par D'ACCORD pour la signer.",
        "en": "Your agreement was not counted: it did not reply to the email with the current "
        "version of the agreement, or did not name that version. The current version is "
        "version {version}, fingerprint {fingerprint}; it is attached. Reply to this email with "
        "I AGREE to sign it.",
    },
    "too_large": {
        "nl": "Uw bericht is groter dan de {limit} MB die we aannemen en werd niet verwerkt. "
        "Stuur uw antwoord opnieuw, zonder grote bijlagen.",
        "fr": "Votre message dépasse les {limit} Mo que nous acceptons et n'a pas été traité. "
        "Renvoyez votre réponse sans pièces jointes volumineuses.",
        "en": "Your message is larger than the {limit} MB we accept and was not processed. "
        "Please send your reply again without large attachments.",
    },
    "attachment_too_large": {
        "nl": "Een bijlage van uw bericht is groter dan de {limit} MB die we aannemen; het "
        "bericht werd niet verwerkt. Stuur het opnieuw met een kleinere bijlage.",
        "fr": "Une pièce jointe de votre message dépasse les {limit} Mo que nous acceptons ; "
        "le message n'a pas été traité. Renvoyez-le avec une pièce jointe plus petite.",
        "en": "An attachment of your message is larger than the {limit} MB we accept; the "
        "message was not processed. Please send it again with a smaller attachment.",
    },
    "change_received": {
        "nl": "Uw voorstel tot wijziging hebben we doorgegeven; u hoort van ons zodra er een "
        "beslissing is. De definitieve versie volgt daarna.",
        "fr": "Nous avons transmis votre demande de modification ; nous reviendrons vers vous "
        "dès qu'une décision sera prise. La version définitive suivra ensuite.",
        "en": "We have passed on your proposed change; you will hear from us once it has been "
        "decided. The final version follows after that.",
    },
    "unprintable": {
        "nl": "bevat tekens die het contract niet kan afdrukken: {chars}",
        "fr": "contient des caractères que la convention ne peut pas imprimer : {chars}",
        "en": "contains characters the agreement cannot print: {chars}",
    },
}


def notice(kind: str, lang: str, **values: object) -> str:
    """The notice ``kind`` in ``lang`` (Dutch when the language is unknown), values filled in."""
    texts = _NOTICES[kind]
    return texts.get(lang, texts["nl"]).format(**values)
