"""The rules of a contract, pure: the lifecycle (state, event) → (state, effects), the data a
document and a mail show, the notices a customer reads, and a final version's fingerprint.

Nothing here does I/O; every capability above decides with it. Each name is imported from its
module when first used (PEP 562): `bot.domain.workflow` (the states, which `contracts list`
needs) does not load `data`, which loads the reader and Typst.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# Imported now, not lazily: the function `fingerprint` shares its name with its module, and a
# lazy name would be shadowed by the submodule once anything imports `bot.domain.fingerprint`.
from bot.domain.fingerprint import fingerprint, quotes_version
from bot.lazy import lazy_getattr

if TYPE_CHECKING:
    from bot.domain.data import annex_fields, document_data, label, questions
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

_MODULES = {
    "annex_fields": "data",
    "document_data": "data",
    "label": "data",
    "questions": "data",
    "notice": "notices",
    "OPEN_STATES": "workflow",
    "Effect": "workflow",
    "Event": "workflow",
    "State": "workflow",
    "Transition": "workflow",
    "decide": "workflow",
}

__getattr__ = lazy_getattr(__name__, globals(), _MODULES)
