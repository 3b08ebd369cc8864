"""Migrations run once per database however many dpabot processes start at the same moment
(docker compose starts the service and the workers together), and the containers' health check
says whether the database is at the image's newest migration."""

from __future__ import annotations

import logging
import os
import re
import secrets
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import make_url

from storage.database import alembic_config, libpq_url, upgrade_schema

ROOT = Path(__file__).resolve().parents[2]
HEALTHCHECK = ROOT / "storage" / "deploy" / "healthcheck.py"
RUNNING = re.compile(r"Running upgrade (\w*) ?-> (\w+)")
# A guard against a hang only (the old code's parallel upgrades hung); never reached when fine.
HANG = 300


@pytest.fixture
def empty_database(database_url: str) -> Iterator[str]:
    """A new database with no schema, on the test server; dropped afterwards."""
    admin = make_url(libpq_url(database_url)).set(database="postgres")
    admin_url = admin.render_as_string(hide_password=False)
    name = f"dpabot_lock_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _revisions(url: str) -> list[str]:
    return [s.revision for s in ScriptDirectory.from_config(alembic_config(url)).walk_revisions()]


def _schema_revision(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT version_num FROM alembic_version").fetchall()}


def _assert_each_ran_once(url: str, log: str) -> None:
    ran = Counter(target for _, target in RUNNING.findall(log))
    assert ran == Counter(_revisions(url)), log
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    assert _schema_revision(url) == heads


def test_two_upgrades_in_parallel_threads_both_succeed_and_migrate_once(
    empty_database: str,
) -> None:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger = logging.getLogger("alembic.runtime.migration")
    handler, level = Collect(level=logging.INFO), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def upgrade() -> None:
        start.wait()
        try:
            upgrade_schema(empty_database)
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=upgrade, daemon=True) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(HANG)
        assert not any(t.is_alive() for t in threads), "an upgrade hung"
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert errors == []
    _assert_each_ran_once(empty_database, "\n".join(lines))


UPGRADE = """
import logging, sys, time
from pathlib import Path
from storage.database import upgrade_schema
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
upgrade_schema(sys.argv[1])
"""


def test_two_processes_upgrading_at_the_same_moment_both_succeed_and_migrate_once(
    empty_database: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE, empty_database, str(go)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    go.touch()  # both start migrating at once (each has imported everything already)
    outputs = []
    for p in procs:
        out, _ = p.communicate(timeout=HANG)
        outputs.append(out)
        assert p.returncode == 0, out
    _assert_each_ran_once(empty_database, "\n".join(outputs))


def _healthcheck(url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DPABOT_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK)], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_health_check_fails_until_the_database_is_at_the_newest_migration(
    empty_database: str,
) -> None:
    before = _healthcheck(empty_database)
    assert before.returncode == 1
    assert "no schema yet" in before.stderr

    revisions = _revisions(empty_database)  # newest first
    command.upgrade(alembic_config(empty_database), revisions[1])
    behind = _healthcheck(empty_database)
    assert behind.returncode == 1
    assert f"at {revisions[1]}" in behind.stderr and revisions[0] in behind.stderr

    upgrade_schema(empty_database)
    assert _healthcheck(empty_database).returncode == 0


def test_health_check_fails_when_the_database_does_not_answer(empty_database: str) -> None:
    gone = make_url(empty_database).set(database=f"{make_url(empty_database).database}_none")
    result = _healthcheck(gone.render_as_string(hide_password=False))
    assert result.returncode == 1
    assert "does not answer" in result.stderr
