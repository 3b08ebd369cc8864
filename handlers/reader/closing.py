"""Where a customer's answer ends: confirmations, "the rest is fine", greetings, their name
(pure). An answer runs on over the next lines until one of these, a blank line or the next
numbered or labelled answer; a sentence about the other fields confirms them, it is not part
of this one."""

from __future__ import annotations

import re

from handlers.text.lang import clean, fold

# Words that only confirm ("3: ok", "Fine as proposed.", "C'est correct", "idem"), folded.
_CONFIRM_WORDS = frozenset(
    """ok oke okay okido okidoki klopt klopt juist correct corrects correcte ja jawel yes yep yeah
    oui akkoord accord d daccord goed prima bevestigd bevestig confirmed confirm confirme
    confirmee exact exacte exactement c est cest bon bien that s thats right fine agreed agree
    zoals voorgesteld voorstel comme propose proposee proposees proposes as proposed proposal
    idem dito same voor mij ons pour moi nous by me us for geen opmerking opmerkingen pas de
    remarque remarques no changes change remarks merci thanks thank you bedankt dank u
    is it all alles this one dit ook also aussi tout a fait helemaal perfect parfait nothing to
    niets te wijzigen rien changer unchanged ongewijzigd inchange inchangee keep laten zo
    houden behouden mag blijven staan peut rester can stay stays goedgekeurd approved
    valide valid en orde in order ordre nickel ca va top great good zijn sont are kloppen
    mogen kunnen kan""".split()
)
_STRONG = frozenset(
    """ok oke okay okido okidoki klopt juist correct corrects correcte yes oui akkoord accord
    daccord goed prima bevestigd confirmed confirme confirmee exact exacte bon right fine
    agreed voorgesteld propose proposee proposed idem dito parfait perfect unchanged
    ongewijzigd inchange inchangee goedgekeurd approved valide nickel kloppen
    blijven rester stay stays""".split()
)


def is_confirmation(value: str) -> bool:
    """The whole value only confirms the proposal: "klopt", "Fine as proposed.", "idem"."""
    words = fold(value).split()
    return (
        0 < len(words) <= 8
        and all(w in _CONFIRM_WORDS for w in words)
        and any(w in _STRONG for w in words)
    )


# "Klopt, behalve dat …", "C'est correct, sauf que …", "ok, but …": the proposal with a change
# the customer describes but does not write out.
_CONFIRM_BUT = re.compile(
    r"^\W*(?:c'?\s*est\s+)?(?:ok(?:é|e|ay)?|klopt|juist|correct|goed|prima|akkoord|d'accord|"
    r"fine|yes|ja|oui|agreed|exact)\b(?:\s+(?:ook|aussi|also|too|wel|zo))?\s*[,;:.!-]*\s*"
    r"(?:maar|behalve|buiten|uitgezonderd|except|but|sauf|mais|hormis|[àa]\s+part|apart\s+from|"
    r"other\s+than)\b",
    re.I,
)
# "Dat laatste mag dus weg", "pls remove that part", "ajoutez « … »", "voeg … toe": an
# instruction to edit the proposal, not the wording itself.
_EDIT_INSTRUCTION = re.compile(
    r"\b(?:dat|dit|die|that|this|it|[çc]a|cela)(?:\s+(?:laatste|deel|stuk|part|bit|point))?\s+"
    r"(?:\w+\s+){0,3}?(?:weg|eruit|schrappen|geschrapt|verwijderd|weglaten|removed|deleted|"
    r"supprim[ée]e?s?|retir[ée]e?s?)\b"
    r"|\b(?:remove|delete|drop|schrap|verwijder|supprimez|retirez|enlevez)\s+(?:\w+\s+)?"
    r"(?:that|this|it|dat|dit|[çc]a|cela)\b"
    r"|\bajoute[rz]\b|\bvoeg\b.{0,80}\btoe\b|\b(?:please|pls|plz)\s+add\b",
    re.I,
)


def asks_to_edit(value: str) -> bool:
    """The answer asks to change the proposal without giving the new text ("klopt, behalve dat
    wij geen domeinnaam hebben", "remove that part"): filled in, it would put the customer's
    remark in the contract; confirmed, it would keep what they want changed. Asked again."""
    text = clean(value).strip()
    return bool(_CONFIRM_BUT.match(text) or _EDIT_INSTRUCTION.search(text))


# A sentence about the fields not answered: they keep their proposals.
REST_CONFIRMED = re.compile(
    r"\b(?:"
    # nl
    r"(?:voor\s+de\s+rest|verder|voor\s+het\s+overige|de\s+rest|de\s+overige\s+(?:vragen|punten"
    r"|antwoorden|voorstellen|gegevens)|alle\s+andere\s+(?:vragen|punten|antwoorden|voorstellen))"
    r"\s*(?:,\s*)?(?:is\s+|zijn\s+|mag\s+|mogen\s+|kan\s+|kunnen\s+)?(?:alles\s+|het\s+)?"
    r"(?:ok|oke|okay|goed|correct|juist|in\s+orde|akkoord|prima|klopt|kloppen|zoals\s+voorgesteld"
    r"|blijven|behouden|zo\s+blijven|geen\s+opmerkingen)"
    # fr
    r"|(?:pour\s+le\s+reste|(?:tout\s+)?le\s+reste(?:\s+de\s+(?:vos|nos|les|ces)\s+\w+)?|les\s+autres\s+(?:questions|points|r[ée]ponses"
    r"|propositions)|sinon)\s*,?\s*(?:(?:c'?\s*est|est|sont|tout\s+est)\s+(?:tout\s+)?"
    r"(?:correct|correcte|correctes|corrects|bon|ok|d'accord|en\s+ordre|exact|"
    r"comme\s+propos[ée]e?s?|inchang[ée]e?s?)|[çc]a\s+(?:me\s+|nous\s+)?(?:va|convient)|"
    # "Pour le reste, vos propositions nous conviennent."
    r"(?:(?:vos|nos|les|ces)\s+(?:propositions|r[ée]ponses)\s+)?(?:me|nous)\s+convien(?:t|nent)"
    r"|peu(?:t|vent)\s+rester)"
    # en
    r"|(?:everything\s+else|the\s+rest|(?:all\s+)?(?:the\s+)?other\s+(?:questions|points|answers"
    r"|proposals|fields)|rest)\s+(?:is|are|can\s+stay|may\s+stay|looks?|seems?)?\s*"
    r"(?:all\s+)?(?:fine|ok|okay|correct|good|right|as\s+proposed|unchanged|agreed)"
    r"|(?:agreed?|ok|fine|happy)\s+with\s+(?:all\s+)?(?:the\s+)?other\s+(?:points|answers"
    r"|proposals|questions)|everything\s+(?:else\s+)?(?:looks|seems)\s+(?:right|fine|good|ok)"
    # "Other than that the proposals look fine to us.", "Apart from that, all good."
    r"|(?:other\s+than\s+that|apart\s+from\s+that|aside\s+from\s+that|otherwise)\s*,?\s*"
    r"(?:(?:the|your)\s+(?:other\s+)?(?:proposals?|answers?)|everything|it|all)?\s*"
    r"(?:is|are|looks?|seems?)?\s*(?:all\s+)?(?:fine|ok|okay|correct|good|right|as\s+proposed)\b"
    r")",
    re.I,
)

_GREETING = re.compile(
    r"^(?:met\s+)?(?:vriendelijke\s+|hartelijke\s+|beste\s+)?groet(?:en|jes)?\b|^mvg\b|^vg\b|"
    r"^(?:bien\s+)?(?:cordialement|à\s+vous|a\s+vous)\b|^bien\s+à\s+vous|^bien\s+a\s+vous|"
    r"^bonne\s+(?:journée|journee|soirée|soiree|fin\s+de\s+journée)|^salutations\b|"
    r"^(?:kind|best|warm)\s+regards\b|^regards\b|^cheers\b|^thanks?\b|^thank\s+you\b|"
    r"^merci\b|^bedankt\b|^dank\s+(?:u|je|jullie)\b|^alvast\s+bedankt|^many\s+thanks|"
    r"^sent\s+from\b|^verzonden\s+(?:vanaf|met)\b|^envoy[ée]\s+de\b|^--\s*$",
    re.I,
)


def _sender_words(sender: str) -> set[str]:
    local = sender.partition("@")[0]
    return {w for w in fold(re.sub(r"[._\-+0-9]+", " ", local)).split() if len(w) > 1}


def _in_sender(word: str, sender: str) -> bool:
    # "sarah" in kapsalonsarah@…, "wendy" in wendy.peeters@…
    local = fold(sender.partition("@")[0]).replace(" ", "")
    return len(word) >= 3 and word in local


def ends_answer(line: str, sender: str = "") -> bool:
    """The line is not part of the answer above it: a greeting, a sentence about the rest,
    or the sender's own name (a first name under a phone reply)."""
    text = clean(line).strip()
    if not text:
        return True
    if _GREETING.search(text) or REST_CONFIRMED.search(text):
        return True
    words = fold(text).split()
    if sender and 0 < len(words) <= 3 and re.fullmatch(r"[^\W\d_][\w'\- ]*", text):
        return bool(set(words) & _sender_words(sender)) or any(_in_sender(w, sender) for w in words)
    return False
