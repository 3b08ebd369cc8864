"""Pure workflow decisions, field validation and configuration errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.settings import load_tenant
from bot.domain.workflow import Effect, Event, State, decide
from bot.errors import ConfigError
from handlers.text.validate import belgian_enterprise_number_ok, validate_value


def test_lifecycle_happy_path():
    assert decide(State.DRAFT, Event("invitation_sent")).state == State.INVITED
    partial = decide(State.INVITED, Event("answers", complete=False))
    assert partial.state == State.COLLECTING and partial.effects == (Effect.SEND_FOLLOWUP,)
    complete = decide(State.COLLECTING, Event("answers", complete=True, changed=True))
    assert complete.state == State.AWAITING_SIGNATURE and complete.effects == (Effect.FINALIZE,)
    signed = decide(State.AWAITING_SIGNATURE, Event("accepted", to_final=True))
    assert signed.state == State.CUSTOMER_SIGNED and signed.effects == (Effect.CUSTOMER_SIGN,)
    assert decide(State.CUSTOMER_SIGNED, Event("archived")).state == State.COMPLETED


def test_acceptance_before_the_final_version_does_not_count():
    step = decide(State.COLLECTING, Event("accepted"))
    assert step.state == State.COLLECTING and step.effects == (Effect.SEND_NOT_COUNTED,)


def test_acceptance_that_does_not_name_the_current_final_sends_it_again():
    step = decide(State.AWAITING_SIGNATURE, Event("accepted", to_final=False))
    assert step.state == State.AWAITING_SIGNATURE and step.effects == (Effect.RESEND_FINAL,)


def test_a_signed_pdf_returned_is_the_acceptance_of_the_final_version_only():
    step = decide(State.AWAITING_SIGNATURE, Event("signed_returned"))
    assert step.state == State.CUSTOMER_SIGNED and step.effects == (Effect.CUSTOMER_SIGN,)
    for state in (State.INVITED, State.COLLECTING, State.COMPLETED):
        assert decide(state, Event("signed_returned")).effects == ()


def test_expiry_and_bounce_close_the_contract_and_tell_staff():
    for kind, state in (("expired", State.EXPIRED), ("bounced", State.BOUNCED)):
        step = decide(State.COLLECTING, Event(kind))
        assert step.state == state and step.effects == (Effect.NOTIFY_STAFF,)
        assert decide(State.COMPLETED, Event(kind)).state == State.COMPLETED


def test_changed_answers_after_the_final_version_make_a_new_one():
    step = decide(State.AWAITING_SIGNATURE, Event("answers", complete=True, changed=True))
    assert step.effects == (Effect.FINALIZE,)
    same = decide(State.AWAITING_SIGNATURE, Event("answers", complete=True, changed=False))
    assert same.effects == ()


def test_closed_contracts_ignore_replies():
    for state in (State.COMPLETED, State.DECLINED, State.EXPIRED):
        assert decide(state, Event("accepted")).state == state
        assert decide(state, Event("answers", complete=True, changed=True)).effects == ()


def test_enterprise_numbers():
    assert belgian_enterprise_number_ok("BE0840.465.705")
    assert belgian_enterprise_number_ok("0662.785.756")
    assert not belgian_enterprise_number_ok("BE0840.465.706")
    assert validate_value("enterprise_number", "123") is not None
    assert validate_value("text", "  ") == "het antwoord is leeg"


GOOD = """
slug = "acme"
name = "Acme BV"
template = "ibeauty"
representative = "Jan"
[mail]
address = "dpa@acme.example"
"""


def test_tenant_file_loads(tmp_path: Path):
    f = tmp_path / "acme.toml"
    f.write_text(GOOD)
    t = load_tenant(f)
    assert t.mail.reply_address("tok") == "dpa+tok@acme.example"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace('address = "dpa@acme.example"', 'address = "nope"'), "key 'mail.address'"),
        (GOOD.replace('representative = "Jan"', ""), "key 'representative' is required"),
        (GOOD + "\ncolour = 'red'\n", "key 'mail.colour' is not a known setting"),
        (GOOD + '\n[signing]\nmode = "pkcs12"\n', "key 'signing'"),
        ("slug = ", "is not valid TOML"),
    ],
)
def test_bad_tenant_file_names_file_and_key(tmp_path: Path, text: str, expected: str):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_tenant(f)
    message = str(err.value)
    assert str(f) in message and expected in message
    assert message.count("\n") == 0


def test_the_readme_tenant_example_is_a_valid_tenant_file(tmp_path: Path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = next(b for b in readme.split("```toml")[1:] if 'slug = "ibeauty"' in b)
    f = tmp_path / "ibeauty.toml"
    f.write_text(block.split("```")[0])
    tenant = load_tenant(f)
    assert tenant.signing.mode == "pkcs12" and tenant.mail.authserv_id == "mx.ibeauty.be"
    assert tenant.reminders.after_days == [7, 14]
