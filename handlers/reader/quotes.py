"""Cut the quoted original, the signature and disclaimers from a reply's text (pure)."""

from __future__ import annotations

import re

from mailparser_reply.parser import EmailMessage

from handlers.text.lang import clean

# ------------------------------------------------------------------ where the original starts

_SEPARATOR = re.compile(
    r"^-{2,}\s*(original message|oorspronkelijk bericht|origineel bericht|message d'origine|"
    r"message original|forwarded message|doorgestuurd bericht|message transf[ée]r[ée])\s*-{2,}$|"
    r"^(begin forwarded message|begin doorgestuurd bericht|d[ée]but du message r[ée]exp[ée]di[ée])"
    r"\s*:$|^_{10,}$",
    re.I,
)
# "Op ma 23 nov 2026 om 10:12 schreef X <x@y>:", "Le … a écrit :", "On … wrote:", Apple's
# "Op … heeft X het volgende geschreven:", Thunderbird's "X schreef op 23-11-2026 10:12:".
_WROTE = re.compile(
    r"^(op|on|le|am)\s.{0,300}?\b(schreef|wrote|a\s+[ée]crit|geschreven|schrieb)\b.{0,250}:$|"
    r"^.{1,200}?\b(schreef op|wrote on|a [ée]crit le)\b.{0,100}:$",
    re.I,
)
_WROTE_START = re.compile(r"^(op|on|le)\s+\S", re.I)
_FIELD = r"(van|from|de|verzonden|sent|envoy[ée]|datum|date|aan|to|[àa]|onderwerp|subject|objet|cc)"
_FROM_LINE = re.compile(r"^\**(van|from|de)\s?\**\s?:\**\s*\S", re.I)
_HEADER_LINE = re.compile(rf"^\**{_FIELD}\s?\**\s?:", re.I)


def reply_header(lines: list[str], i: int) -> int:
    """How many lines from i form a reply header ('Op … schreef …:', 'Van:/Verzonden:'), or 0."""
    line = clean(lines[i]).strip()
    if not line:
        return 0
    if _SEPARATOR.match(line):
        return 1
    for span in (1, 2, 3):
        if span > 1 and not _WROTE_START.match(line):
            break
        if i + span > len(lines):
            break
        joined = " ".join(clean(x).strip() for x in lines[i : i + span])
        if _WROTE.match(joined) and re.search(r"\d", joined):
            return span
    if _FROM_LINE.match(line):
        # One "Van: …" line alone may be the customer's text; a header has more fields below.
        following = [clean(x).strip() for x in lines[i + 1 : i + 6]]
        if sum(1 for x in following if _HEADER_LINE.match(x)) >= 1:
            n = 1
            while i + n < len(lines) and _HEADER_LINE.match(clean(lines[i + n]).strip()):
                n += 1
            return n
    return 0


# ------------------------------------------------------------------ signatures and disclaimers

_SENT_FROM = re.compile(
    r"^(sent|verzonden|verstuurd|envoy[ée]|gesendet)\s+(from|vanaf|vanuit|van|met|via|de|depuis|"
    r"[àa] partir d[e']|with|using|on|avec)\b.{0,60}$|"
    r"^(get|download) outlook for\b|^outlook voor \w+ downloaden|^(t[ée]l[ée]charger|obtenir) "
    r"outlook pour\b",
    re.I,
)
_GREETING = re.compile(
    r"^((met )?(vriendelijke|hartelijke|beste|warme|collegiale) groet(en|jes)?|mvg|vg|"
    r"groet(en|jes)?|(kind|best|warm|warmest|kindest) regards|with (kind|best) regards|regards|"
    r"best wishes|best|cheers|sincerely|yours (sincerely|truly|faithfully)|"
    r"thanks( a lot| again| in advance)?|thank you( very much)?|many thanks|bedankt|dank u( wel)?|"
    r"dank je( wel)?|alvast bedankt|merci( beaucoup| d'avance| bien)?|(bien )?cordialement|"
    r"bien [àa] vous|(meilleures |sinc[èe]res |bien |mes )?salutations( distingu[ée]es)?|"
    r"bonne (journ[ée]e|fin de journ[ée]e|soir[ée]e)|belle journ[ée]e|amicalement|b[àa]v)"
    r"[\s,.!:;-]*(?P<name>\S.{0,40})?$",
    re.I,
)
_DISCLAIMER = re.compile(
    r"^(\**\s*disclaimer|confidentiality notice|vertrouwelijkheid|avis de confidentialit|"
    r"this (e-?mail|message|communication) (and any|is|may|contains)|"
    r"(dit|deze) (e-?mail(bericht)?|bericht) (en|is|kan|bevat|wordt)|"
    r"ce (message|courriel|e-?mail) (et|est|peut|contient)|les informations contenues|"
    r"de informatie (in|verzonden|opgenomen)|the information (contained|in this|transmitted)|"
    r"(please )?consider the environment|denk aan het milieu|pensez [àa] l'environnement|"
    r"think before you print)",
    re.I,
)
_ANSWER_LIKE = re.compile(r"^\s*\d{1,2}\s*[.:)]")


def is_signature(lines: list[str], i: int) -> bool:
    """Whether the customer's text ends at line i: signature mark, 'Sent from…', greeting."""
    line = clean(lines[i]).strip()
    if re.fullmatch(r"(--|—|__)\s*", lines[i].strip()) or lines[i].rstrip("\n") == "-- ":
        return True
    if len(line) > 100:
        return False
    if _SENT_FROM.match(line) or _DISCLAIMER.match(line):
        return True
    m = _GREETING.match(line)
    if not m:
        return False
    name = m.group("name") or ""
    # "Bedankt voor uw mail, hier mijn antwoorden:" is a sentence, not a closing.
    if name and not re.fullmatch(r"([A-ZÀ-Ý][\w.'-]*\s*){1,3}", name):
        return False
    # A greeting above the answers ("Bedankt!\n1. …") does not end the text.
    return not any(_ANSWER_LIKE.match(x) for x in lines[i + 1 : i + 40])


# ------------------------------------------------------------------ own words


def is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _next_text(lines: list[str], i: int) -> str:
    for line in lines[i:]:
        if line.strip():
            return line
    return ""


def split_reply(text: str) -> tuple[str, str]:
    """(the customer's own words, the quoted original), both with '>' marks removed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    own: list[str] = []
    quoted: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if is_quoted(line):
            quoted.append(re.sub(r"^(\s*>)+ ?", "", line))
            i += 1
            continue
        span = reply_header(lines, i)
        if span:
            # Quoted with '>' below: the customer may write below or between (inline, bottom
            # posting), so only the header line goes. Else the original follows unmarked.
            if is_quoted(_next_text(lines, i + span)):
                i += span
                continue
            quoted.extend(lines[i:])
            break
        if is_signature(lines, i):
            # The customer's words end here, but the original quoted under the signature is
            # still the original (a forward's answers are read there).
            quoted.extend(_original_below(lines[i:]))
            break
        own.append(line.rstrip())
        i += 1
    return _trim("\n".join(own)), "\n".join(quoted).strip()


def _original_below(lines: list[str]) -> list[str]:
    """The quoted original under a signature: its '>' lines, or all from its reply header."""
    out: list[str] = []
    for k, line in enumerate(lines):
        if is_quoted(line):
            out.append(re.sub(r"^(\s*>)+ ?", "", line))
        elif not out and reply_header(lines, k):
            return lines[k:]
    return out


def _trim(text: str) -> str:
    return text.strip("\n").rstrip()


# mail-parser-reply's regexes backtrack badly on long lines (seconds at 5000 characters) and
# Python cannot interrupt a running regex, so it only ever sees a bounded, clipped text.
_MPR_MAX_CHARS = 6000
_MPR_MAX_LINE = 200


def _mail_parser_reply_cut(text: str) -> str:
    """A second opinion from mail-parser-reply (nl, fr, en); only ever cuts lines off the end."""
    lines = text.split("\n")
    clipped = "\n".join(ln[:_MPR_MAX_LINE] for ln in lines)[:_MPR_MAX_CHARS]
    if len(clipped) < len(text) and len(text) > _MPR_MAX_CHARS:
        return text  # too long to ask safely: our own cut stands
    try:
        message = EmailMessage(
            text=clipped, languages=["nl", "fr", "en"], keep_hyphen_lists=True
        ).read()
    except Exception:  # a third-party parser must never stop the reading
        return text
    if not message.replies:
        return text
    body = [ln.strip() for ln in message.replies[0].body.split("\n")]
    while body and not body[-1]:
        body.pop()
    if not body:
        return text
    # Keep our lines up to where its body ends, if its body is a prefix of ours (same lines).
    stripped = [ln.strip()[:_MPR_MAX_LINE] for ln in lines]
    if stripped[: len(body)] != [b[:_MPR_MAX_LINE] for b in body]:
        return text
    return _trim("\n".join(lines[: len(body)]))


def strip_quotes(text: str) -> str:
    """The customer's own words: no quoted original, no '>' lines, no signature or disclaimer."""
    own, _ = split_reply(text)
    return _mail_parser_reply_cut(own) if own else own
