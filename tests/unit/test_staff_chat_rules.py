"""Staff chat rules without a bot: [telegram] settings, routing by chat and allowlist,
message splitting, the command registry and the digest hour."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.chat.access import AMBIGUOUS, UNKNOWN, UNMAPPED
from bot.chat.notify import digest_cutoff
from bot.core.settings import TelegramServiceSettings, load_service, load_tenant
from bot.errors import ConfigError
from bot.transports.telegram import split_text
from handlers.staff import REGISTRY, Directory, Registry

TENANT = """
slug = "{slug}"
name = "{slug} BV"
template = "ibeauty"
representative = "Jan"
[mail]
address = "dpa@{slug}.example"
"""
TELEGRAM = """
[telegram]
token = {{ env = "TG_TOKEN" }}
staff_chat_id = {chat}
chat_ids = [{extra}]
staff = [
  {{ user_id = {admin}, name = "Anna", role = "admin" }},
  {{ user_id = 7, name = "Stef" }},
]
"""


def _tenant(tmp_path: Path, slug: str, chat: int = -100, admin: int = 1, extra: str = "") -> Path:
    f = tmp_path / f"{slug}.toml"
    f.write_text(TENANT.format(slug=slug) + TELEGRAM.format(chat=chat, extra=extra, admin=admin))
    return f


def test_a_tenant_telegram_section_loads(tmp_path: Path):
    t = load_tenant(_tenant(tmp_path, "acme", extra="-200, -300"))
    assert t.telegram is not None
    assert t.telegram.chats() == {-100, -200, -300}
    assert [(m.user_id, m.role) for m in t.telegram.staff] == [(1, "admin"), (7, "staff")]
    assert t.telegram.digest is False and t.telegram.digest_hour == 8


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('role = "admin"', 'role = "boss"'), "key 'telegram.staff.0.role' is invalid"),
        (("user_id = 7", "user_id = 1"), "user_id 1 is listed twice"),
        (('token = { env = "TG_TOKEN" }', 'token = "123:abc"'), "key 'telegram.token'"),
        (('token = { env = "TG_TOKEN" }', "token = {}"), "by reference"),
        (("staff_chat_id = -100", "staff_chat_id = 'group'"), "key 'telegram.staff_chat_id'"),
        (("[telegram]", "[telegram]\ndigest_hour = 24"), "key 'telegram.digest_hour'"),
        (("[telegram]", "[telegram]\npassword = 1"), "'telegram.password' is not a known"),
    ],
)
def test_bad_telegram_sections_name_file_and_key(tmp_path: Path, change, expected):
    f = _tenant(tmp_path, "acme")
    f.write_text(f.read_text().replace(*change))
    with pytest.raises(ConfigError) as err:
        load_tenant(f)
    assert str(f) in str(err.value) and expected in str(err.value)
    # A literal token is never repeated in the message.
    assert "123:abc" not in str(err.value)


def test_no_staff_is_an_error(tmp_path: Path):
    f = tmp_path / "acme.toml"
    f.write_text(TENANT.format(slug="acme") + '[telegram]\ntoken = { env = "X" }\nstaff = []\n')
    with pytest.raises(ConfigError, match=r"telegram\.staff"):
        load_tenant(f)


def test_service_telegram_urls(tmp_path: Path):
    s = TelegramServiceSettings(base_url="http://127.0.0.1:8081/bot/")
    assert s.base_url == "http://127.0.0.1:8081/bot"
    assert s.base_file_url == "http://127.0.0.1:8081/file/bot"
    f = tmp_path / "dpabot.toml"
    f.write_text('[telegram]\nbase_url = "http://127.0.0.1:8081"\n')
    with pytest.raises(ConfigError, match=r"key 'telegram.base_url' .*ending in '/bot'"):
        load_service(f)


def test_routing_by_chat_then_by_allowlist(tmp_path: Path):
    a = load_tenant(_tenant(tmp_path, "alpha", chat=-100, admin=1))
    b = load_tenant(_tenant(tmp_path, "bravo", chat=-200, admin=2))  # both list user 7
    d = Directory([a, b])
    got = d.resolve(-100, "supergroup", 1)
    assert (got.slug, got.member and got.member.role, got.refusal) == ("alpha", "admin", None)
    assert d.resolve(-200, "supergroup", 7).slug == "bravo"
    assert d.resolve(1, "private", 1).slug == "alpha"
    assert d.resolve(2, "private", 2).slug == "bravo"
    # Not on the chat's tenant's list: refused, that tenant told.
    r = d.resolve(-200, "supergroup", 1)
    assert (r.refusal, r.concerned, r.member) == (UNKNOWN, ("bravo",), None)
    # On both lists, in private: ambiguous, both told.
    r = d.resolve(7, "private", 7)
    assert (r.refusal, r.concerned, r.slug) == (AMBIGUOUS, ("alpha", "bravo"), None)
    # A stranger of a shared bot: no tenant can be named.
    assert d.resolve(99, "private", 99).concerned == ()
    # A group nobody mapped.
    r = d.resolve(-999, "group", 1)
    assert (r.refusal, r.concerned) == (UNMAPPED, ("alpha",))
    # A bot of one tenant: that tenant hears of strangers.
    assert Directory([a]).resolve(99, "private", 99).concerned == ("alpha",)


def test_two_tenants_of_one_bot_cannot_map_the_same_chat(tmp_path: Path):
    a = load_tenant(_tenant(tmp_path, "alpha", chat=-100))
    b = load_tenant(_tenant(tmp_path, "bravo", chat=-200, extra="-100"))
    with pytest.raises(ConfigError) as err:
        Directory([a, b])
    message = str(err.value)
    assert "alpha.toml" in message and "bravo.toml" in message and "-100" in message


def test_long_texts_are_split_at_line_ends():
    text = "\n".join(f"line {n:04d} " + "x" * 80 for n in range(200))
    pieces = split_text(text, 4096)
    assert all(len(p) <= 4096 for p in pieces) and len(pieces) == 5
    assert "\n".join(pieces) == text
    assert split_text("y" * 5000, 4096) == ["y" * 4096, "y" * 904]
    assert split_text("") == [""]


def test_the_registry_checks_names_roles_and_clashes():
    r = Registry()

    @r.command("changes", roles={"admin", "staff"}, help="open change requests")
    async def changes(sc) -> None: ...

    with pytest.raises(ValueError, match="registered twice"):
        r.command("changes", help="again")(changes)
    with pytest.raises(ValueError, match="Roles must be"):
        r.command("x", roles={"boss"}, help="?")
    with pytest.raises(ValueError, match="lowercase"):
        r.command("Send", help="?")
    with pytest.raises(ValueError, match="without ':'"):
        r.callback("a:b")
    r.upload("send", suffixes=[".csv", ".XLSX"], help="customers")(changes)
    assert r.upload_for("Klanten.xlsx") is not None and r.upload_for("x.pdf") is None
    assert [c.name for c in r.visible("staff")] == ["changes"]
    # The built-in commands and who sees them.
    assert {"status", "find", "get", "remind", "help"} <= {
        c.name for c in REGISTRY.visible("staff")
    }
    assert {"audit", "export"} & {c.name for c in REGISTRY.visible("staff")} == set()
    assert {"audit", "export"} <= {c.name for c in REGISTRY.visible("admin")}


def test_digest_cutoff_is_the_latest_digest_hour():
    at = dt.datetime(2026, 3, 5, 7, 59, tzinfo=dt.UTC)
    assert digest_cutoff(at, 8) == dt.datetime(2026, 3, 4, 8, 0, tzinfo=dt.UTC)
    assert digest_cutoff(at.replace(hour=8, minute=0), 8) == at.replace(hour=8, minute=0)
    assert digest_cutoff(at.replace(hour=23), 8) == dt.datetime(2026, 3, 5, 8, 0, tzinfo=dt.UTC)


def test_tokens_are_checked_and_never_echoed(tmp_path: Path, monkeypatch):
    from bot.app.telegram import group_by_token

    a = load_tenant(_tenant(tmp_path, "alpha", chat=-100))
    b = load_tenant(_tenant(tmp_path, "bravo", chat=-200))
    monkeypatch.setenv("TG_TOKEN", "123456:secret-key")
    assert list(group_by_token([a, b]).items()) == [("123456:secret-key", [a, b])]
    monkeypatch.setenv("TG_TOKEN", "not-a-token-secret")
    with pytest.raises(ConfigError) as err:
        group_by_token([a])
    assert "alpha.toml: key 'telegram.token'" in str(err.value)
    assert "secret" not in str(err.value)
    monkeypatch.delenv("TG_TOKEN")
    with pytest.raises(ConfigError, match="TG_TOKEN"):
        group_by_token([a])


def test_the_readme_telegram_examples_load(tmp_path: Path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```")[0] for b in readme.split("```toml")[1:] if "[telegram]" in b]
    tenant_block = next(b for b in blocks if "staff = [" in b)
    service_block = next(b for b in blocks if "base_url" in b)
    f = tmp_path / "acme.toml"
    f.write_text(TENANT.format(slug="acme") + tenant_block)
    t = load_tenant(f)
    assert t.telegram is not None and {m.role for m in t.telegram.staff} == {"admin", "staff"}
    s = tmp_path / "dpabot.toml"
    s.write_text(service_block)
    assert load_service(s).telegram.base_file_url == "http://127.0.0.1:8081/file/bot"
