"""Secrets stay out of logs whatever level a user sets: the bot token in httpx's request lines,
and a configured secret inside an exception's message and traceback."""

from __future__ import annotations

import io
import logging
import secrets

import pytest

from bot.app.telegram import StaffChat
from bot.core.settings import (
    SecretRef,
    StaffMember,
    TelegramServiceSettings,
    TelegramSettings,
)
from tests.fixtures.runtime import make_tenant

ADMIN, GROUP = 5001, -100555


def _bot_token() -> str:
    """A token in @BotFather's form: the bot's id, ':', a 35-character key."""
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:AA{secrets.token_urlsafe(33)[:33]}"


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture):
    """Everything logged, at DEBUG for every logger (httpx too), through a handler of our own
    with the usual format, and through caplog."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    try:
        yield out
    finally:
        logging.getLogger().removeHandler(handler)


async def test_the_bot_token_is_in_no_log_line_while_every_request_is_logged(
    runtime_factory, botapi, monkeypatch, all_logs, caplog
):
    token = _bot_token()
    monkeypatch.setenv("DPABOT_TEST_REDACT_TG", token)
    tenant = make_tenant()
    tenant.telegram = TelegramSettings(
        token=SecretRef(env="DPABOT_TEST_REDACT_TG"),
        staff_chat_id=GROUP,
        staff=[StaffMember(user_id=ADMIN, name="Anna Admin", role="admin")],
    )
    rt = await runtime_factory([tenant])
    rt.settings.telegram = TelegramServiceSettings(base_url=botapi.base_url)
    chat = StaffChat(rt, poll_timeout=1, notify_interval=0.2)
    await chat.start()
    try:
        before = len(botapi.calls)
        botapi.push_message(token, ADMIN, ADMIN, "/help")
        (answer,) = await botapi.answers(before, ADMIN)
        assert "/status" in answer.text
    finally:
        await chat.stop()
    text = all_logs.getvalue()
    # The requests were logged (the URL with the token's place marked), the token nowhere.
    requests = [ln for ln in text.splitlines() if ln.startswith("INFO httpx: HTTP Request:")]
    assert any("/bot[redacted]/sendMessage" in ln for ln in requests), requests
    assert token not in text
    assert token.split(":")[1] not in text  # not even the key without the bot's id
    assert token not in caplog.text
    assert not [r for r in caplog.records if token in r.getMessage()]


async def test_a_secret_in_an_exception_is_redacted_in_message_and_traceback(
    monkeypatch, all_logs, caplog
):
    password = f"pw-{secrets.token_hex(8)}"
    monkeypatch.setenv("DPABOT_TEST_REDACT_PW", password)
    # Resolving a configured secret is what makes dpabot keep it out of the logs.
    assert SecretRef(env="DPABOT_TEST_REDACT_PW").resolve("IMAP password") == password
    token = _bot_token()  # never configured here: recognised by its form
    log = logging.getLogger("dpabot.test")
    try:
        raise ConnectionError(f"login refused for password {password!r}")
    except ConnectionError:
        log.exception("IMAP login to %s failed", f"https://api.example/bot{token}/getMe")
    log.debug("retrying with %s", {"password": password})
    text = all_logs.getvalue()
    assert "IMAP login to https://api.example/bot[redacted]/getMe failed" in text
    assert "ConnectionError: login refused for password '[redacted]'" in text  # the traceback
    assert "retrying with {'password': '[redacted]'}" in text
    for secret in (password, token):
        assert secret not in text and secret not in caplog.text
