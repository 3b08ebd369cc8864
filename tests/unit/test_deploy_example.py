"""The docker compose set-up as a whole: the example tenant folder loads, every password is a
Docker secret that the services needing it get (none in the environment), every service has a
health check, and the entrypoint hands the database password to libpq."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.settings import load_service, load_tenant
from templates import load_manifest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "storage" / "deploy"
EXAMPLE = DEPLOY / "example"
ENTRYPOINT = DEPLOY / "dpabot-entrypoint.sh"
SECRET_REF = re.compile(r'^[^#\n]*\{\s*file\s*=\s*"/run/secrets/([^"]+)"', re.M)
DPABOT_SERVICES = ("dpabot", "worker")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def _tenant_files() -> list[Path]:
    return load_service(EXAMPLE / "dpabot.toml").tenants


def _secrets_of(service: dict[str, Any]) -> set[str]:
    return {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}


def test_the_example_configuration_loads_with_its_template() -> None:
    settings = load_service(EXAMPLE / "dpabot.toml")
    assert settings.tenants, "the example names no tenant"
    for path in settings.tenants:
        tenant = load_tenant(path)
        load_manifest(tenant.template)  # raises for a template that does not exist
        assert tenant.mail.transport == "imap"


def test_the_example_tenant_talks_to_the_compose_mail_servers(compose: dict[str, Any]) -> None:
    dovecot_conf = (DEPLOY / "dovecot" / "dovecot.conf").read_text()
    imap_port = re.search(r"inet_listener imap \{\s*port = (\d+)", dovecot_conf)
    assert imap_port is not None
    for path in _tenant_files():
        mail = load_tenant(path).mail
        assert mail.imap is not None and mail.smtp is not None
        assert mail.imap.host == "dovecot" and mail.imap.port == int(imap_port[1])
        assert mail.smtp.host == "relay"
        assert {"dovecot", "relay"} <= set(compose["services"])


def test_the_commented_production_signing_block_is_valid(tmp_path: Path) -> None:
    text = (EXAMPLE / "tenants" / "example.toml").read_text()
    signing = text.index("[signing]")
    head, block = text[:signing], text[signing:]
    block = block.replace('mode = "dev"\n', "")
    block = re.sub(r"^# (\w+ = )", r"\1", block, flags=re.M)
    tenant_file = tmp_path / "tenants" / "example.toml"
    tenant_file.parent.mkdir()
    tenant_file.write_text(head + block)
    tenant = load_tenant(tenant_file)
    assert tenant.signing.mode == "pkcs12"
    assert tenant.signing.passphrase is not None
    assert str(tenant.signing.passphrase.file).startswith("/run/secrets/")


def test_every_secret_the_tenants_name_is_declared_and_given_to_dpabot_and_the_worker(
    compose: dict[str, Any],
) -> None:
    named = set()
    for path in _tenant_files():
        named |= set(SECRET_REF.findall(path.read_text()))
    assert named, "the example tenant names no secret file"
    declared = set(compose["secrets"])
    assert named <= declared
    for name in DPABOT_SERVICES:
        assert named | {"dpabot_db_password"} <= _secrets_of(compose["services"][name])


def test_make_secrets_makes_every_secret_file_compose_declares(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "secrets"
    subprocess.run(
        ["sh", str(EXAMPLE / "make-secrets.sh"), str(out)], check=True, capture_output=True
    )
    for name, spec in compose["secrets"].items():
        path = out / Path(spec["file"]).name
        assert path.is_file(), f"make-secrets.sh does not make the secret {name}"
        assert path.stat().st_mode & 0o777 == 0o644
    assert out.stat().st_mode & 0o777 == 0o700
    # Run again: no password in use changes.
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    subprocess.run(
        ["sh", str(EXAMPLE / "make-secrets.sh"), str(out)], check=True, capture_output=True
    )
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "mailbox_users"}
    assert after == {k: v for k, v in before.items() if k != "mailbox_users"}


def test_every_service_has_a_health_check_and_dpabot_waits_for_them(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    waits = services["dpabot"]["depends_on"]
    for dependency in ("postgres", "dovecot", "relay"):
        assert waits[dependency]["condition"] == "service_healthy"


def test_no_password_is_in_any_service_environment(compose: dict[str, Any]) -> None:
    sensitive = re.compile(r"PASSWORD|PASSPHRASE|SECRET|TOKEN|PIN\b", re.I)
    for name, service in compose["services"].items():
        env = service.get("environment", {})
        assert isinstance(env, dict), f"{name}: write the environment as a mapping"
        for key, value in env.items():
            if sensitive.search(key):
                assert key.endswith("_FILE"), f"{name}: {key} carries a secret in the environment"
                assert str(value).startswith("/run/secrets/"), f"{name}: {key}"
            assert not re.search(r"://[^/@\s]*:[^/@\s]*@", str(value)), (
                f"{name}: {key} has a password"
            )


def test_the_services_that_read_a_secret_file_get_that_secret(compose: dict[str, Any]) -> None:
    dovecot_conf = (DEPLOY / "dovecot" / "dovecot.conf").read_text()
    for name, service in compose["services"].items():
        text = yaml.safe_dump(service.get("environment", {})) + yaml.safe_dump(
            service.get("healthcheck", {})
        )
        if name == "dovecot":
            text += dovecot_conf
        for secret in re.findall(r"/run/secrets/([\w.-]+)", text):
            assert secret in _secrets_of(service), f"{name} reads {secret} but is not given it"


def test_the_entrypoint_gives_libpq_the_password_from_its_file(tmp_path: Path) -> None:
    secret = tmp_path / "dpabot_db_password"
    secret.write_text("s3cret-from-file")
    env = {**os.environ, "DPABOT_DATABASE_PASSWORD_FILE": str(secret)}
    env.pop("PGPASSWORD", None)
    shown = subprocess.run(
        ["sh", str(ENTRYPOINT), "sh", "-c", 'printf %s "$PGPASSWORD"'],
        env=env,
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0 and shown.stdout == "s3cret-from-file"


def test_the_entrypoint_stops_with_one_sentence_when_the_file_is_missing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    env = {**os.environ, "DPABOT_DATABASE_PASSWORD_FILE": str(tmp_path / "absent")}
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "touch", str(marker)], env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "make-secrets.sh" in result.stderr and result.stderr.count("\n") == 1
    assert not marker.exists()
