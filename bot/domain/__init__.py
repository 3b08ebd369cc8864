"""The rules of a contract, pure: the lifecycle (state, event) → (state, effects), the data a
document and a mail show, the notices a customer reads, and a final version's fingerprint.

Nothing here does I/O; every capability above decides with it.
"""

from bot.domain.data import annex_fields, document_data, label, questions
from bot.domain.fingerprint import fingerprint, quotes_version
from bot.domain.notices import notice
from bot.domain.workflow import OPEN_STATES, Effect, Event, State, Transition, decide

__all__ = [
    "OPEN_STATES",
    "Effect",
    "Event",
    "State",
    "Transition",
    "annex_fields",
    "decide",
    "document_data",
    "fingerprint",
    "label",
    "notice",
    "questions",
    "quotes_version",
]
