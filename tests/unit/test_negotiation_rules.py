"""Negotiation's pure parts: workflow decisions around change requests, and the articles staff
see next to a request (read from each template's own text)."""

from __future__ import annotations

import pytest

from bot.domain.workflow import Effect, Event, State, decide
from templates.articles import article, articles


def test_an_open_change_request_holds_even_a_complete_reply() -> None:
    for state in (State.INVITED, State.COLLECTING, State.AWAITING_SIGNATURE, State.NEGOTIATING):
        step = decide(state, Event("answers", complete=True, changed=True, open_changes=True))
        assert step.state == State.NEGOTIATING
        assert step.effects == (Effect.SEND_FOLLOWUP,)  # acknowledged, never finalised


def test_the_last_decision_finalises_only_a_complete_contract() -> None:
    last = Event("change_decided", complete=True, open_changes=False)
    assert decide(State.NEGOTIATING, last).effects == (Effect.FINALIZE,)
    assert decide(State.NEGOTIATING, last).state == State.AWAITING_SIGNATURE
    incomplete = Event("change_decided", complete=False, open_changes=False)
    assert decide(State.NEGOTIATING, incomplete).state == State.COLLECTING
    assert decide(State.NEGOTIATING, incomplete).effects == ()
    more = Event("change_decided", complete=True, open_changes=True)
    assert decide(State.NEGOTIATING, more).state == State.NEGOTIATING
    assert decide(State.NEGOTIATING, more).effects == ()
    # A decision on a contract no longer negotiating changes nothing.
    assert decide(State.DECLINED, last).state == State.DECLINED


def test_acceptance_while_negotiating_is_not_counted() -> None:
    step = decide(State.NEGOTIATING, Event("accepted", to_final=True))
    assert step.state == State.NEGOTIATING and step.effects == (Effect.SEND_NOT_COUNTED,)


@pytest.mark.parametrize(
    ("template", "count", "number", "title", "starts"),
    [
        ("ibeauty", 13, "5", "Gebruik sub-verwerkers (art. 28 lid 4)", "De verwerker neemt geen"),
        ("also", 10, "6", "Onderaanneming", "(1)"),
        ("it4professionals", 14, "12", "Duur en beëindiging", ""),
        ("clauses", 3, "2", "Doel", "Deze clausules zijn bedoeld"),
    ],
)
def test_articles_come_from_the_contract_body(template, count, number, title, starts) -> None:
    found = articles(template)
    assert len(found) == count
    assert list(found) == [str(n) for n in range(1, count + 1)]
    art = article(template, number)
    assert art is not None and art.title == title and art.text.startswith(starts)
    for a in found.values():
        assert "#let" not in a.text and "signature-block" not in a.text


def test_annex_headings_are_not_articles() -> None:
    # ALSO's English TOM appendix numbers its headings 1-4 too; article 1 is still the contract's.
    assert article("also", "1").title.startswith("Onderwerp en duur")  # type: ignore[union-attr]
    assert article("ibeauty", "99") is None and article("ibeauty", None) is None
    assert article("ibeauty", "05").number == "5"  # type: ignore[union-attr]
