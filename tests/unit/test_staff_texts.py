"""Staff chat texts in Dutch, French and English, and who reads which (pure, no servers)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from bot.chat.language import chat_language, member_language, refusal_language
from bot.chat.limits import CODE_LIMIT, LINK_CLOSED
from bot.chat.notify import words
from bot.contracts import stranger
from bot.contracts.inbox import STAFF_MUST_KNOW
from bot.core.settings import SecretRef, StaffMember, TelegramSettings
from storage.models import Notification
from storage.notify import SENDERS_LISTED, SENDERS_PER_WINDOW, Group
from templates.chat import (
    KEPT_KINDS,
    NOTICE_TEMPLATES,
    STAFF_LANGUAGES,
    age,
    notice_text,
    parse_state,
    render_staff,
    staff_notice,
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
    "digest": {"texts": ["done"]},
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


# --- notices: stored as kind and values, worded at delivery ----------------------------------

SINCE = dt.datetime(2026, 12, 5, 7, 5, tzinfo=dt.UTC)
GROUP = {
    "sender": "x@spam.example",
    "count": 3,
    "senders": 1,
    "part": 1,
    "since": SINCE,
    "until": None,
    "limit": 5,
    "listed": 1000,
}
CR_PARAMS = {
    "cr": {"id": 7, "article": "5", "text": "Wij willen dit anders."},
    "ref": "t-3",
    "customer": "MOOI",
    "art": {"number": "5", "title": "Sub-verwerkers"},
    "current": "De verwerker schakelt …",
}
# Each kind's values as its writer stores them, and the English the code wrote before.
NOTICES: dict[str, tuple[dict[str, object], str]] = {
    "question": (
        {"customer": "MOOI", "ref": "t-3", "question": "Wat met art. 7?", "email": "k@m.example"},
        "Question from MOOI (contract t-3): “Wat met art. 7?”. Answer them by mail at k@m.example.",
    ),
    "shunted": (
        {"error": "ValueError"},
        "A mail could not be processed and was set aside with its error (ValueError); it is "
        "kept for you to look at.",
    ),
    "chat_link_closed": (
        {"total": 12, "ref": "t-3", "customer": "MOOI", "accounts": 2, "shown": "11, 12"},
        "Wrong chat codes were entered 12 times in all for contract t-3 (MOOI), from 2 Telegram "
        "account(s) (11, 12); the chat link of this contract is now closed: no more codes are "
        "mailed and no account can bind. The customer can still answer by mail.",
    ),
    "chat_code_limit": (
        {"ref": "t-3", "customer": "MOOI", "limit": 5, "user_id": 42},
        "Chat codes for contract t-3 (MOOI) were asked for more than 5 times within an hour (the "
        "latest by Telegram user 42); no more are mailed to the customer for now. If the "
        "customer did not ask for them, someone else has the chat link.",
    ),
    "chat_refused": (
        {"user_id": 42, "ref": "t-3", "customer": "MOOI"},
        "Someone else (Telegram user 42) opened the chat link of contract t-3 (MOOI), already "
        "bound to another Telegram user; they were refused and saw nothing.",
    ),
    "chat_locked": (
        {"tries": 5, "ref": "t-3", "customer": "MOOI", "user_id": 42},
        "A wrong chat code was entered 5 times for contract t-3 (MOOI) by Telegram user 42; that "
        "chat is locked. The customer can still answer by mail.",
    ),
    "undeliverable": (
        {"mail_kind": "reminder", "to": "k@m.example", "ref": None, "error": "550 no"},
        "The reminder mail to k@m.example (no contract) could not be sent after every retry: "
        "550 no",
    ),
    "signature_refused": (
        {
            "ref": "t-3",
            "customer": "MOOI",
            "stale": {"state": "completed", "version": 3, "signed": 2},
            "detail": "",
            "confirm": None,
        },
        "Contract t-3 (MOOI): the PDF the customer signed and sent back was not accepted. "
        "Contract t-3 is completed at version 3; the signed PDF was for version 2.",
    ),
    "signer_unconfirmed": (
        {
            "ref": "t-3",
            "customer": "MOOI",
            "stale": None,
            "detail": "Signed by Jan, not the representative.",
            "confirm": "dpabot contracts confirm-signer --tenant t 9",
        },
        "Contract t-3 (MOOI): the PDF the customer signed and sent back was not accepted. Signed "
        "by Jan, not the representative. If this is the right person, confirm with: dpabot "
        "contracts confirm-signer --tenant t 9",
    ),
    "expired": (
        {"ref": "t-3", "days": 60},
        "Contract t-3 expired after 60 days without agreement; replies to it are no longer used.",
    ),
    "completed": (
        {"ref": "t-3", "customer": "MOOI", "archive_id": "20261205-0a1b2c3d4e"},
        "Contract t-3 with MOOI is signed by both parties and archived (20261205-0a1b2c3d4e).",
    ),
    "chat_error": (
        {"command": "/boom", "error": "RuntimeError"},
        "A staff chat request (/boom) failed with RuntimeError; the service log has the details.",
    ),
    "bounce": (
        {"detail": "550 unknown user", "sender": None},
        "A mail to a customer bounced (550 unknown user).",
    ),
    "change_request": (
        CR_PARAMS,
        "Change request 7 – contract t-3, MOOI (article 5)\n"
        "Customer's words: “Wij willen dit anders.”\n"
        "Current article 5 – Sub-verwerkers: De verwerker schakelt …\n"
        "Decide: /approve 7 [note] · /reject 7 reason · /counter 7 text",
    ),
}
SAMPLES.update(
    {
        "notice_question": NOTICES["question"][0],
        "notice_shunted": NOTICES["shunted"][0],
        "notice_link_closed": NOTICES["chat_link_closed"][0],
        "notice_code_limit": NOTICES["chat_code_limit"][0],
        "notice_chat_refused": NOTICES["chat_refused"][0],
        "notice_chat_locked": NOTICES["chat_locked"][0],
        "notice_undeliverable": NOTICES["undeliverable"][0],
        "notice_signature": NOTICES["signer_unconfirmed"][0],
        "notice_expired": NOTICES["expired"][0],
        "notice_completed": NOTICES["completed"][0],
        "notice_chat_error": NOTICES["chat_error"][0],
        "notice_kept": {"kind": "unknown_token", "detail": "no token", "sender": "x@y.example"},
        "notice_grouped": {"kind": "unknown_token", "detail": "d", "sender": "s", "g": GROUP},
    }
)


def test_every_notice_kind_has_a_template_and_a_sample():
    assert set(NOTICE_TEMPLATES) - set(KEPT_KINDS) | {"bounce"} == set(NOTICES)
    # Every kind a writer stores has its template (kept mail: each outcome staff must know).
    assert set(STAFF_MUST_KNOW) == set(KEPT_KINDS)
    assert {LINK_CLOSED, CODE_LIMIT} <= set(NOTICE_TEMPLATES)


@pytest.mark.parametrize("kind", sorted(NOTICES))
def test_a_notice_keeps_its_english_and_is_worded_in_each_language(kind):
    params, english = NOTICES[kind]
    assert notice_text(kind, params) == english
    texts = {lang: staff_notice(kind, lang, params) for lang in STAFF_LANGUAGES}
    assert texts["en"] == english and len(set(texts.values())) == 3, texts
    for value in ("MOOI", "t-3", "42", "550", "RuntimeError", "20261205-0a1b2c3d4e"):
        if value in english:
            assert all(value in t for t in texts.values() if t), (kind, value, texts)


def test_a_notice_that_does_not_fit_is_none_and_notice_text_says_so():
    assert staff_notice("no_such_kind", "nl", {}) is None
    assert staff_notice("expired", "nl", {"ref": "t-3"}) is None  # days missing
    assert staff_notice("change_request", "fr", {"cr": 3}) is None
    with pytest.raises(ValueError, match="expired"):
        notice_text("expired", {})


@pytest.mark.parametrize("kind", sorted(stranger._PHRASES))
@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize("part", [1, 2])
@pytest.mark.parametrize("senders", [None, 1, 4, 1000])  # None: one sender's own group
@pytest.mark.parametrize("held", [False, True])
def test_grouped_english_is_the_old_wording_in_every_case(kind, count, part, senders, held):
    sender = "x@spam.example" if senders is None else None
    until = SINCE + dt.timedelta(hours=1) if held else None
    detail = "no such contract"
    first = f"{STAFF_MUST_KNOW[kind]} ({detail}; from x@spam.example)."
    group = Group(kind, sender, count, senders or 1, part, SINCE, until)
    old = stranger.text_for(kind, first)(group)
    g = {
        "sender": sender,
        "count": count,
        "senders": senders or 1,
        "part": part,
        "since": SINCE,
        "until": until,
        "limit": SENDERS_PER_WINDOW,
        "listed": SENDERS_LISTED,
    }
    params = {"detail": detail, "sender": "x@spam.example"}
    assert staff_notice(kind, "en", params, g) == old
    nl, fr = (staff_notice(kind, lang, params, g) for lang in ("nl", "fr"))
    assert nl and fr and len({old, nl, fr}) == 3
    if not (count == 1 and part == 1 and sender and not held):  # else: the first mail's words
        assert all(f"{count}" in t for t in (nl, fr))


def _note(**kw: object) -> Notification:
    base: dict[str, object] = {"kind": "expired", "text": "as stored", "params": None}
    return Notification(**{**base, **kw})


def test_delivery_words_a_row_in_the_chat_language_or_sends_it_as_stored():
    params, english = NOTICES["expired"]
    assert words(_note(params=params), "nl") == (
        "Contract t-3 is verlopen na 60 dagen zonder akkoord; antwoorden erop worden niet meer "
        "gebruikt."
    )
    assert words(_note(params=params), "en") == english
    assert words(_note(), "fr") == "as stored"  # an old row: no params
    assert words(_note(kind="no_such_kind", params={"a": 1}), "fr") == "as stored"
    assert words(_note(params={"ref": "t-3"}), "fr") == "as stored"  # values that do not fit
    assert words(_note(params=["not", "a", "dict"]), "fr") == "as stored"
    grouped = _note(
        kind="unknown_token",
        params={"detail": "d", "sender": "x@spam.example"},
        dedupe_key="unknown_token|tenant",
        window_start=SINCE,
        deliver_after=None,
        count=7,
        part=2,
        senders=["a@x", "b@x"],
    )
    assert words(grouped, "fr") == (
        "De 2 autres expéditeurs (plus de 5 dans l'heure : comptés ensemble) : encore 7 "
        "e-mails avec des adresses de réponse inconnues depuis 07:05 UTC ; tous conservés, "
        "aucun utilisé."
    )
