"""`dpabot archive verify|export|search`, `dpabot audit` and `dpabot customers erase` on a
database with two tenants' archived contracts."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest

from tests.fixtures.runtime import make_tenant
from tests.integration.test_archive_verify import archive_one, open_for_module

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
async def two_tenants(database_url, tmp_path_factory) -> AsyncIterator[dict]:
    a, b = make_tenant(transport="maildir"), make_tenant(transport="maildir")
    data_dir = tmp_path_factory.mktemp("cli")
    async for rt in open_for_module(data_dir, database_url, [a, b]):
        ea = await archive_one(rt, a.slug, "MOOI Schoonheidsverzorging", "k@mooi.example")
        eb = await archive_one(rt, b.slug, "UTOPIA", "t@utopia.example")
        yield {
            "a": a.slug,
            "b": b.slug,
            "ea": ea,
            "eb": eb,
            "data_dir": data_dir,
            "db": database_url,
        }


def dpabot(ctx: dict, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DPABOT_DATA_DIR": str(ctx["data_dir"]),
        "DPABOT_DATABASE_URL": ctx["db"],
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ctx["data_dir"],
        timeout=300,
    )


def test_verify_one_and_all_then_a_flipped_manifest_fails(two_tenants):
    ctx = two_tenants
    entry = ctx["ea"]
    one = dpabot(ctx, "archive", "verify", entry.id, "--tenant", ctx["a"])
    assert one.returncode == 0, one.stdout + one.stderr
    every = dpabot(ctx, "archive", "verify", "--all", "--tenant", ctx["a"], "--json")
    assert every.returncode == 0, every.stdout + every.stderr
    report = json.loads(every.stdout)
    assert report["ok"] and [e["id"] for e in report["entries"]] == [entry.id]
    # The other tenant's entry is not found through this tenant.
    other = dpabot(ctx, "archive", "verify", ctx["eb"].id, "--tenant", ctx["a"])
    assert other.returncode == 1 and "no archive entry" in other.stderr
    manifest = Path(entry.manifest_path)
    original = manifest.read_bytes()
    os.chmod(manifest, 0o644)
    try:
        manifest.write_bytes(original.replace(b'"archive_id"', b'"archive_iD"', 1))
        bad = dpabot(ctx, "archive", "verify", entry.id, "--tenant", ctx["a"], "--json")
        assert bad.returncode == 1
        problems = json.loads(bad.stdout)["entries"][0]["problems"]
        assert any("manifest" in p for p in problems), problems
    finally:
        manifest.write_bytes(original)
        os.chmod(manifest, 0o444)
    usage = dpabot(ctx, "archive", "verify", "--tenant", ctx["a"])
    assert usage.returncode == 2


def test_export_has_only_that_tenants_files_and_sums_check(two_tenants, tmp_path):
    ctx = two_tenants
    out = tmp_path / "a.zip"
    proc = dpabot(ctx, "archive", "export", "--tenant", ctx["a"], "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    target = tmp_path / "unzipped"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(target)
        names = set(zf.namelist())
    check = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=target, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    folder_a = ctx["data_dir"] / "archive" / ctx["a"]
    expected = {p.relative_to(folder_a).as_posix() for p in folder_a.rglob("*") if p.is_file()}
    assert names == expected | {"SHA256SUMS"}
    suffixes = {Path(n).suffix for n in names}
    assert {".pdf", ".json", ".eml", ".tsr"} <= suffixes
    b_files = {p.name for p in (ctx["data_dir"] / "archive" / ctx["b"]).rglob("*")}
    assert not {Path(n).name for n in names} & b_files


def test_search_filters_by_state_and_dates(two_tenants):
    ctx = two_tenants
    today = dt.datetime.now(dt.UTC).date()

    def ids(*extra: str) -> list[str]:
        proc = dpabot(ctx, "archive", "search", "--tenant", ctx["a"], "--json", *extra)
        assert proc.returncode == 0, proc.stderr
        return [r["id"] for r in json.loads(proc.stdout)]

    entry = ctx["ea"].id
    assert ids() == [entry]
    assert ids("--state", "completed", "--from", str(today), "--to", str(today)) == [entry]
    assert ids("--to", str(today - dt.timedelta(days=1))) == []
    assert ids("--from", str(today + dt.timedelta(days=1))) == []
    assert ids("--state", "declined") == []
    assert ids("MOOI", "--state", "completed") == [entry]
    bad = dpabot(ctx, "archive", "search", "--tenant", ctx["a"], "--from", "yesterday")
    assert bad.returncode == 2


def test_every_lookup_is_audited_and_the_log_verifies(two_tenants, tmp_path):
    ctx = two_tenants
    got = dpabot(
        ctx, "archive", "get", ctx["ea"].id, "--tenant", ctx["a"], "-o", str(tmp_path / "x.pdf")
    )
    assert got.returncode == 0, got.stderr
    proc = dpabot(ctx, "audit", "--tenant", ctx["a"], "--verify", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    assert out["verify"]["ok"]
    actions = {e["action"] for e in out["events"]}
    assert {
        "contract.archived",
        "archive.search",
        "archive.get",
        "archive.verify",
        "archive.export",
    } <= actions
    assert all(
        e["actor"].startswith("cli") for e in out["events"] if e["action"].startswith("archive.")
    )
    text = dpabot(ctx, "audit", "--tenant", ctx["a"], "--verify")
    assert text.returncode == 0 and "is intact" in text.stdout


def test_audit_verify_fails_naming_the_deleted_last_event(two_tenants):
    ctx = two_tenants
    dpabot(ctx, "archive", "search", "UTOPIA", "--tenant", ctx["b"])
    events = json.loads(dpabot(ctx, "audit", "--tenant", ctx["b"], "--json").stdout)["events"]
    last = events[-1]["id"]
    with psycopg.connect(ctx["db"], autocommit=True) as conn:
        conn.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        try:
            conn.execute("DELETE FROM audit_events WHERE id = %s", (last,))
        finally:
            conn.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    proc = dpabot(ctx, "audit", "--tenant", ctx["b"], "--verify")
    assert proc.returncode == 1
    assert "tampered" in proc.stdout and f"newest recorded event is {last}" in proc.stdout


def test_customers_erase_keeps_the_signed_contract_and_says_why(two_tenants):
    ctx = two_tenants
    proc = dpabot(
        ctx, "customers", "erase", "--tenant", ctx["a"], "--email", "k@mooi.example", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["erased"] == [] and any("retention period" in k["why"] for k in out["kept"])
    assert Path(ctx["ea"].path).is_file()
