"""Staff chat texts in Dutch, French and English, and who reads which (pure, no servers)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from bot.chat.language import chat_language, member_language, refusal_language
from bot.core.settings import SecretRef, StaffMember, TelegramSettings
from templates.chat import (
    STAFF_LANGUAGES,
    age,
    parse_state,
    render_staff,
    staff_templates,
    state_name,
)
from tests.fixtures.runtime import make_tenant

NOW = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC)
CR = SimpleNamespace(id=7, article="5", text="Wij willen dit anders.")
ART = SimpleNamespace(number="5", title="Sub-verwerkers", text="…")
DECISION = SimpleNamespace(
    change_request_id=7,
    contract_id=3,
    status="approved",
    version=2,
    state="negotiating",
    finalizing=False,
    still_open=1,
)
ENTRY = SimpleNamespace(id="20261205-0a1b2c3d4e", erased_at=None)
COMMAND = SimpleNamespace(name="status", usage="", help="contracts per state")
UPLOAD = SimpleNamespace(name="send", suffixes={".csv"}, help="a customer file")
EVENT = SimpleNamespace(id=1, at=NOW, actor="telegram:1", action="chat.help", subject="")
FOUND = {
    "ref": "#3",
    "state": "invited",
    "version": 1,
    "age": dt.timedelta(days=2),
    "archive_id": None,
    "customer": "MOOI",
    "enterprise_number": None,
    "email": "m@x.example",
}

# One context for each staff text: every one renders in each language.
SAMPLES: dict[str, dict[str, object]] = {
    "audit": {"tenant": "iBeauty", "check": SimpleNamespace(ok=True, count=3), "events": [EVENT]},
    "button_approve": {"id": 7},
    "button_expired": {},
    "change_request": {"cr": CR, "ref": "t-3", "customer": "MOOI", "art": ART, "current": "…"},
    "changes": {"items": ["one"]},
    "cr_button_invalid": {},
    "decided": {"d": DECISION, "slug": "t"},
    "decision_refused": {"reason": "reason_needed"},
    "digest": {"notes": [SimpleNamespace(text="done")]},
    "error": {},
    "export_caption": {"count": 3},
    "export_too_large": {"mb": 60, "slug": "t"},
    "find": {"query": "mooi", "found": [FOUND], "limit": 50},
    "get_caption": {"ref": "#3", "customer": "MOOI", "archive_id": ENTRY.id},
    "get_unreadable": {"ref": "#3", "error": "OSError", "archive_id": ENTRY.id, "slug": "t"},
    "help": {
        "tenant": "iBeauty",
        "name": "Anna",
        "role": "admin",
        "commands": [COMMAND],
        "uploads": [UPLOAD],
    },
    "hint": {},
    "not_allowed": {"command": "audit"},
    "not_archived": {"ref": "#3", "state": "invited", "entry": None},
    "not_found": {"what": "change_request", "ident": 9},
    "notification": {"note": SimpleNamespace(kind="question"), "text": "as stored"},
    "page_footer": {"n": 1, "total": 2},
    "page_next": {},
    "page_previous": {},
    "pages_expired": {},
    "refused": {"reason": "unknown"},
    "remind": {"sent": [{"ref": "#3", "customer": "MOOI", "state": "invited"}], "skipped": []},
    "send_button_cancel": {},
    "send_button_go": {"n": 3},
    "send_cancelled": {},
    "send_confirm": {"n": 3},
    "send_expired": {},
    "send_file_empty": {"name": "x.csv"},
    "send_file_problems": {"name": "x.csv", "problems": "row 2: …"},
    "send_file_read": {"name": "x.csv", "rows": 3, "format": "CSV"},
    "send_invited": {"done": 3, "total": 3},
    "send_plan": {"would": 0, "already": ["4"], "unknown": [], "tenant": "iBeauty"},
    "send_preview": {"intro": ["3"], "to": "a@x.example", "subject": "DPA", "text": "Hallo"},
    "send_preview_caption": {"to": "a@x.example"},
    "send_progress": {"done": 1, "total": 3, "failures": 1},
    "send_sending": {"n": 3},
    "send_stopped": {"error": "boom"},
    "send_summary": {"imported": 2, "existing": 1, "invited": 3, "skipped": 0, "failed": ["x"]},
    "status": {
        "tenant": "iBeauty",
        "counts": [("invited", 1)],
        "total": 1,
        "oldest": {
            "ref": "#3",
            "customer": "MOOI",
            "state": "invited",
            "age": dt.timedelta(days=3, hours=4),
        },
    },
    "unknown_command": {"command": "/x"},
    "unknown_upload": {},
    "usage": {"command": "send"},
    "validation": {
        "ref": "#3",
        "customer": "MOOI",
        "entry": ENTRY,
        "sha256": "ab",
        "report": {"ok": True, "error": None, "signatures": []},
        "stamps": [],
    },
}
SAME_BY_DESIGN = {"notification"}  # "[kind] text": the text is worded elsewhere


def test_every_language_has_the_same_staff_texts():
    names = staff_templates("en")
    assert names and all(staff_templates(lang) == names for lang in STAFF_LANGUAGES)
    assert names == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_text_renders_in_three_wordings(name):
    texts = {lang: render_staff(name, lang, **SAMPLES[name]) for lang in STAFF_LANGUAGES}
    assert all(texts.values())
    if name not in SAME_BY_DESIGN:
        assert len(set(texts.values())) == 3, texts


def test_a_language_dpabot_does_not_write_falls_back_to_english():
    assert render_staff("error", "de") == render_staff("error", "en")


def test_durations_and_states_in_each_language():
    delta = dt.timedelta(days=3, hours=4, minutes=5)
    assert [age(delta, lang) for lang in ("nl", "fr", "en")] == ["3 d 4 u", "3 j 4 h", "3 d 4 h"]
    assert age(dt.timedelta(hours=5, minutes=10), "nl") == "5 u 10 min"
    assert age(dt.timedelta(minutes=2), "fr") == "2 min"
    assert state_name("awaiting_signature", "nl") == "wacht op handtekening"
    assert state_name("awaiting_signature", "fr") == "en attente de signature"
    assert state_name("awaiting_signature", "en") == "awaiting_signature"
    assert state_name("something_new", "nl") == "something_new"


@pytest.mark.parametrize(
    ("words", "state"),
    [
        ("afgerond", "completed"),
        ("Terminé", "completed"),
        ("termine", "completed"),
        ("EN ATTENTE DE SIGNATURE", "awaiting_signature"),
        ("awaiting signature", "awaiting_signature"),
        ("awaiting_signature", "awaiting_signature"),
        ("wacht op handtekening", "awaiting_signature"),
        ("mooi", None),
        ("", None),
    ],
)
def test_a_state_is_named_in_any_staff_language(words, state):
    assert parse_state(words) == state


def test_english_refusals_of_a_decision_keep_their_old_wording():
    assert render_staff("decision_refused", "en", reason="reason_needed") == (
        "A rejection needs a reason: the customer reads it."
    )
    assert render_staff(
        "decision_refused", "en", reason="decided", id=4, status="approved", by="x", when=""
    ) == ("Change request 4 was already approved by x (earlier).")
    assert render_staff(
        "decision_refused", "en", reason="closed", ref="t-3", state="completed"
    ) == ("Contract t-3 is completed; its change requests can no longer be decided.")


def _telegram(**kw: object) -> TelegramSettings:
    staff = [StaffMember(user_id=1, name="A"), StaffMember(user_id=2, name="B", language="en")]
    return TelegramSettings(token=SecretRef(env="X"), staff=staff, **kw)  # type: ignore[arg-type]


def test_who_reads_which_language():
    dutch = make_tenant()  # language nl
    dutch.telegram = _telegram()
    first, second = dutch.telegram.staff
    assert chat_language(dutch) == "nl"
    assert member_language(dutch, first) == "nl" and member_language(dutch, second) == "en"
    french_chat = make_tenant()
    french_chat.telegram = _telegram(language="fr")
    assert chat_language(french_chat) == "fr"
    assert member_language(french_chat, french_chat.telegram.staff[0]) == "fr"
    assert member_language(french_chat, None) == "fr"
    assert refusal_language([dutch]) == "nl"
    assert refusal_language([dutch, make_tenant()]) == "nl"
    assert refusal_language([dutch, french_chat]) == "en"
    assert refusal_language([]) == "en"
