"""What a reply wants: accept, decline, change an article, ask, or it is automatic (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from handlers.reader.closing import REST_CONFIRMED
from handlers.reader.mime import ParsedMail
from handlers.reader.prose import sentences
from handlers.text.lang import clean

# ------------------------------------------------------------------ automatic mail


def is_bounce(mail: ParsedMail) -> bool:
    """A delivery status notification (RFC 3464) or a mail from the mailer daemon."""
    ctype = mail.headers.get("Content-Type", "").lower()
    local = mail.from_addr.partition("@")[0]
    return (
        ("multipart/report" in ctype and "delivery-status" in ctype)
        or local in ("mailer-daemon", "postmaster")
        or bool(mail.headers.get("X-Failed-Recipients"))
    )


_AUTO_TEXT = re.compile(
    r"\b(automatisch antwoord|automatische (reactie|beantwoording|melding)|afwezigheidsmelding|"
    r"afwezigheidsbericht|r[ée]ponse automatique|absence du bureau|absent(e)? du bureau|"
    r"message d'absence|out of (the )?office|automatic reply|auto-?reply|autoreply|"
    r"ik ben (momenteel |tijdelijk )?afwezig|je suis (actuellement )?absente?|"
    r"i am (currently )?(out of|away from) (the )?office)\b",
    re.I,
)


def is_auto_reply(mail: ParsedMail, own_text: str) -> bool:
    """RFC 3834 headers, read receipts, or an out-of-office subject or text."""
    h = {k.lower(): v.lower().strip() for k, v in mail.headers.items()}
    if h.get("auto-submitted", "no") not in ("", "no"):
        return True
    if h.get("x-autoreply") or h.get("x-autorespond"):
        return True
    if h.get("precedence") in ("auto_reply", "bulk", "junk"):
        return True
    if "multipart/report" in h.get("content-type", ""):
        return True  # read receipts (disposition-notification) are automatic too
    return bool(_AUTO_TEXT.search(clean(mail.subject)) or _AUTO_TEXT.search(clean(own_text)))


# ------------------------------------------------------------------ accept and decline

_DECLINE = re.compile(
    r"\b(niet\s+(mee\s+)?akkoord|geen\s+akkoord|(ga|gaan)\s+(hier\s+|daar\s+)?niet\s+(mee\s+)?"
    r"akkoord|weiger\w*|niet\s+(onder)?tekenen|(onder)?tekenen\s+(dit\s+|deze\s+|het\s+)?niet|"
    r"niet\s+aanvaard\w*|aanvaarden\s+\w*\s*niet|"
    r"pas\s+d'accord|ne\s+sommes\s+pas\s+d'accord|ne\s+suis\s+pas\s+d'accord|refus\w*|"
    r"n'acceptons\s+pas|n'accepte\s+pas|ne\s+sign\w*\s+pas|"
    r"(do|does|can)\s*n[o']t\s+agree|disagree|not\s+agree|declin\w*|reject\w*|"
    r"(will\s+not|won't|cannot|can't)\s+(sign|accept)|do\s+not\s+accept|don't\s+accept)\b",
    re.I,
)
_ACCEPT = re.compile(
    r"\b(akkoord|goedgekeurd|aanvaard|ik\s+keur\w*\s+\w*\s*goed|voor\s+akkoord|"
    r"d'accord|j'accepte|nous\s+acceptons|accept[ée]e?s?|approuv[ée]e?s?|bon\s+pour\s+accord|"
    r"i\s+agree|we\s+agree|agreed|approved?|i\s+accept|we\s+accept|accepted)\b",
    re.I,
)
_CONFIRM_ALL = re.compile(
    r"\b(alles\s+(klopt|is\s+(correct|juist|in\s+orde|ok|goed|prima)|ok)|alle\s+(voorstellen|antwoorden|"
    r"gegevens)\s+(zijn\s+|kloppen|mogen|bevestig)|(ik\s+)?bevestig\s+alle|"
    r"tout\s+est\s+(correct|bon|en\s+ordre|ok)|toutes\s+les\s+(propositions|r[ée]ponses)|"
    r"je\s+confirme\s+tout|everything\s+is\s+(correct|fine|ok)|all\s+(correct|good|fine)|"
    r"all\s+(the\s+)?(proposals|answers)|i\s+confirm\s+all)\b",
    re.I,
)

# ------------------------------------------------------------------ change requests

_ARTICLE = re.compile(
    r"\b(?:artikel|artikels|art\.?|article|articles|clausule|clause|section|sectie)\s*"
    # \b: "artikel 82 AVG" is not article 8 followed by "2 AVG".
    r"(\d{1,3}(?:\.\d{1,2})*)\b(?!\s*(?:van\s+de\s+|du\s+|of\s+the\s+)?(?:avg|gdpr|rgpd|gvo))",
    re.I,
)
_CHANGE_CUE = re.compile(
    r"\b(wijzig\w*|aanpass\w*|aan\s+te\s+passen|vervang\w*|schrap\w*|verwijder\w*|toevoeg\w*|"
    r"toe\s+te\s+voegen|in\s+plaats\s+van|moet\s+\w*|moeten|zou\s+\w*|graag|liever|luiden|"
    r"modifi\w*|remplac\w*|supprim\w*|ajout\w*|au\s+lieu\s+de|devrai\w*|doit|plut[ôo]t|"
    r"change\w*|replac\w*|amend\w*|delet\w*|remov\w*|add\w*|instead\s+of|should|must|read)\b",
    re.I,
)
# Proposed wording in double quotes, guillemets, or single quotes that are not apostrophes.
_QUOTED = re.compile(r"[\"“”«»„]\s*([^\"“”«»„]{3,}?)\s*[\"“”«»„]|(?<!\w)'([^'\n]{3,}?)'(?!\w)")
_INSTEAD = re.compile(r"\b(in\s+plaats\s+van|au\s+lieu\s+de|instead\s+of|plut[ôo]t\s+que)\b", re.I)


def _proposed(sentence: str, rest: list[str]) -> str:
    """The wording the customer proposes: a quoted text, the text after ':', or the sentence."""
    quoted = [a or b for a, b in _QUOTED.findall(sentence)]
    if quoted:
        # 'vervang "14" door "30"' proposes the last; '"30" in plaats van "14"' the first.
        if len(quoted) >= 2 and _INSTEAD.search(sentence.split(quoted[0], 1)[-1]):
            return quoted[0].strip()
        return quoted[-1].strip()
    if sentence.rstrip().endswith(":") and rest:
        return " ".join(rest).strip()
    head, sep, tail = sentence.partition(":")
    if sep and _ARTICLE.search(head) and len(tail.strip()) > 3:
        return tail.strip()
    return sentence.strip()


@dataclass
class Intent:
    """Accept, decline, change requests and questions read from free text."""

    accept: bool = False
    decline: bool = False
    confirm_all: bool = False
    change_requests: list[dict[str, str | None]] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)


def read_intent(free_text: str) -> Intent:
    """Intent of the customer's free text (their words minus field answers)."""
    text = clean(free_text)
    out = Intent()
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    accept_seen = False
    for para in paragraphs:
        # Wrapped lines are one sentence, but a line that ends in . ! ? ends its sentence even
        # when the next begins in lower case ("alles is goed.\nmoet ik de pdf …?").
        joined = re.sub(r"(?<![.!?])\n", " ", para)
        parts = sentences(joined if not _is_list(para) else para)
        for k, s in enumerate(parts):
            question = s.endswith("?")
            # Articles named inside the proposed wording are not the ones to change.
            articles = list(dict.fromkeys(_ARTICLE.findall(_QUOTED.sub(" ", s))))
            scoped = bool(articles)
            polite_change = question and scoped and bool(_CHANGE_CUE.search(s))
            if question and not polite_change:
                # "Pourriez-vous modifier l'article 5 …?" is a change request, not a question.
                out.questions.append(s)
            if articles and (not question or polite_change):
                for number in articles:
                    proposal = _proposed(s, parts[k + 1 :])
                    out.change_requests.append({"article": number, "text": proposal})
            elif not question and _QUOTED.search(s) and _CHANGE_CUE.search(s):
                # A quoted contract sentence with new wording, without an article number.
                out.change_requests.append({"article": None, "text": _proposed(s, parts[k + 1 :])})
            if question:
                continue
            # "Niet akkoord met artikel 12" objects to an article: a change request, not a no.
            declined = _DECLINE.search(s)
            if declined and not scoped:
                out.decline = True
            remainder = _DECLINE.sub(" ", s)
            if REST_CONFIRMED.search(s):
                # "Agreed with all other points": the other answers, not the contract.
                out.confirm_all = True
                continue
            if _ACCEPT.search(remainder):
                accept_seen = True
            if _CONFIRM_ALL.search(s):
                out.confirm_all = True
    out.accept = accept_seen and not out.decline and not out.change_requests
    return out


def _is_list(para: str) -> bool:
    return sum(1 for ln in para.split("\n") if re.match(r"\s*([-*•]|\d+[.)])\s", ln)) >= 2
