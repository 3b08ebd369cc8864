"""Answers someone else wrote, that the customer forwards and endorses (pure).

"Onze boekhouder heeft de vragen beantwoord, zie hieronder. Wij gaan akkoord met zijn
antwoorden." The answers are in the forwarded mail, below the customer's words: they are read
there (the first forwarded message only, not the invitation quoted under it), and the
endorsing sentence is no acceptance of the contract.
"""

from __future__ import annotations

import re

from handlers.reader.quotes import reply_header, split_reply

ENDORSED = re.compile(
    r"\b(?:"
    # nl
    r"(?:heeft|hebben)\s+(?:de\s+vragen\s+|alles\s+|het\s+)?(?:beantwoord|ingevuld|aangevuld)"
    r"|zie\s+(?:\S+\s+){0,6}?(?:hieronder|onder|beneden)"
    r"|akkoord\s+met\s+(?:zijn|haar|hun|de|die|deze)\s+antwoorden"
    r"|(?:zijn|haar|hun|deze)\s+antwoorden\s+(?:kloppen|zijn\s+(?:ok|correct|goed))"
    # fr
    r"|(?:a|ont)\s+(?:r[ée]pondu|rempli|compl[ée]t[ée])"
    r"|voir\s+(?:\S+\s+){0,6}?ci-dessous"
    r"|(?:voici\s+)?les\s+r[ée]ponses\s+de\s+(?:notre|nos|mon|ma|leur|son|sa)\s+\w+"
    r"|que\s+nous\s+approuvons|(?:filled|fill)\s+(?:this|it|them)\s+in|vult?\s+(?:dit|het)\s+in"
    r"|d'accord\s+avec\s+(?:ses|leurs|les|ces)\s+r[ée]ponses"
    r"|(?:ses|leurs|ces)\s+r[ée]ponses\s+sont\s+(?:correctes|bonnes|ok)"
    # en
    r"|(?:has|have)\s+(?:answered|filled\s+in|completed)"
    r"|see\s+(?:\S+\s+){0,6}?below"
    r"|(?:agree|agreed|approve|approved)\s+(?:with\s+)?(?:his|her|their|these|the)\s+answers"
    r"|(?:his|her|their|these)\s+answers\s+(?:are\s+)?(?:fine|correct|ok|approved)"
    r")",
    re.I,
)


def endorses(own_words: str) -> bool:
    return bool(ENDORSED.search(own_words))


def without_endorsement(free: str) -> str:
    """The customer's words minus the sentences that endorse a forwarded answer (their
    "akkoord" there approves the answers, not the contract)."""
    kept = []
    for line in free.split("\n"):
        parts = re.split(r"(?<=[.!?])\s+", line)
        kept.append(" ".join(p for p in parts if not ENDORSED.search(p)))
    return "\n".join(kept)


def forwarded_words(quoted: str) -> str:
    """The first forwarded message's own words (its header skipped, what it quotes cut)."""
    lines = quoted.split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    span = reply_header(lines, i) if i < len(lines) else 0
    if span:
        i += span
    words, _ = split_reply("\n".join(lines[i:]))
    return words


# The invitation's own proposal lines: "   Voorstel: …", "   Proposition : …", "   Proposal: …".
# (An HTML table row of the invitation renders as one line: "1. Label question Voorstel: …".)
_PROPOSAL_LINE = re.compile(r"(?:^|\s)(?:voorstel|proposition|proposal)\s*:", re.I)


def is_invitation(lines: list[str]) -> bool:
    """The first message below is dpabot's own invitation, not a colleague's answers: "see
    below" then points at our questions (answers typed into them are read inline), and its
    numbered questions and example must never be read as answers."""
    return sum(1 for ln in lines if _PROPOSAL_LINE.search(ln)) >= 2
