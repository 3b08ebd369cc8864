"""The embedded PostgreSQL is started once and reused by the commands after it; `dpabot db
stop` ends it; benches leave none behind (issues 16 and 18)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.test_cli import ROOT, dpabot


def postmasters() -> dict[int, str]:
    """Every live postgres server on the machine: pid → its data folder (-D)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = [a.decode() for a in (entry / "cmdline").read_bytes().split(b"\0")]
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state != "Z" and Path(argv[0]).name == "postgres" and "-D" in argv:
            found[int(entry.name)] = argv[argv.index("-D") + 1]
    return found


@pytest.fixture
def work() -> Iterator[Path]:
    """A folder the embedded server's own system user can reach (pytest's base folder is
    made private again by every pytest run that starts on the machine)."""
    path = Path(tempfile.mkdtemp(prefix="dpabot-fastcli-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def folder(work: Path) -> Iterator[Path]:
    """A configuration whose data folder holds an embedded server; stopped at the end."""
    config = work / "dpabot.toml"
    config.write_text('data_dir = "var"\n', encoding="utf-8")
    yield config
    dpabot("db", "stop", "--config", str(config))


def record(config: Path) -> dict:
    return json.loads((config.parent / "var" / "postgres.json").read_text())


def test_two_commands_share_one_server_that_db_stop_ends(folder: Path) -> None:
    first = dpabot("tenant", "list", "--config", str(folder))
    assert first.returncode == 0, first.stderr
    assert "starting the embedded PostgreSQL" in first.stderr
    server = record(folder)
    pgdata = str((folder.parent / "var" / "pg").resolve())
    assert postmasters().get(server["pid"]) == pgdata
    # --config before the command as well as after it.
    second = dpabot("--config", str(folder), "tenant", "list")
    assert second.returncode == 0, second.stderr
    assert "starting" not in second.stderr
    assert record(folder) == server  # same pid, socket and port

    stopped = dpabot("db", "stop", "--config", str(folder))
    assert stopped.returncode == 0, stopped.stderr
    assert f"pid {server['pid']}" in stopped.stdout
    assert pgdata not in postmasters().values()
    assert not (folder.parent / "var" / "postgres.json").exists()
    again = dpabot("db", "stop", "--config", str(folder))
    assert again.returncode == 0 and "No embedded PostgreSQL is running" in again.stdout


def test_a_stale_record_starts_a_new_server(folder: Path) -> None:
    assert dpabot("tenant", "list", "--config", str(folder)).returncode == 0
    old = record(folder)
    assert dpabot("db", "stop", "--config", str(folder)).returncode == 0
    # The record left behind by a server that died (a reboot, a kill -9).
    (folder.parent / "var" / "postgres.json").write_text(json.dumps(old))
    proc = dpabot("tenant", "list", "--config", str(folder))
    assert proc.returncode == 0, proc.stderr
    assert "starting the embedded PostgreSQL" in proc.stderr
    new = record(folder)
    assert new["pid"] != old["pid"]
    assert new["pid"] in postmasters()


def test_two_commands_started_at_once_start_one_server(folder: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DPABOT_DATABASE_URL", None)
    cmd = [sys.executable, "-m", "bot.app.cli", "tenant", "list", "--config", str(folder)]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sum("starting the embedded PostgreSQL" in err for _, err in outs) == 1, outs
    pgdata = str((folder.parent / "var" / "pg").resolve())
    assert list(postmasters().values()).count(pgdata) == 1


def test_db_stop_refuses_a_configured_database(tmp_path: Path) -> None:
    config = tmp_path / "dpabot.toml"
    config.write_text(
        'data_dir = "var"\ndatabase_url = "postgresql://dpabot@127.0.0.1:5432/dpabot"\n'
    )
    proc = dpabot("db", "stop", "--config", str(config))
    assert proc.returncode == 2
    assert "only stops the embedded PostgreSQL" in proc.stderr


def test_the_bulk_bench_leaves_no_postgres_behind(work: Path) -> None:
    # The bench's temporary folder under work: its server is told from anyone else's.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(work)}
    env.pop("DPABOT_DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bulk_send.py"), "--n", "3"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sent=3" in proc.stdout.splitlines()[-1]
    left = [d for d in postmasters().values() if d.startswith(str(work))]
    assert not left, left
    assert not list(work.glob("dpabot-bench-*")), "the bench left its folder"
