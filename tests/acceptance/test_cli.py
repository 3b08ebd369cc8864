"""Whole flows through the `dpabot` command line, on embedded defaults."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest

from bot.app.demo import DEMO_ANSWERS
from storage.embedded import stop_embedded
from tests.fixtures.pki import nss_db, pdfsig_signatures, qpdf_check

ROOT = Path(__file__).resolve().parents[2]


def dpabot(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full_env.pop("DPABOT_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.app.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[Path, dict]]:
    """`dpabot demo --json` on embedded PostgreSQL (no DPABOT_DATABASE_URL), once per module;
    its server (left running for later commands) is stopped at the end."""
    # Not under pytest's base folder: each pytest run starting on the machine makes that private
    # again, and the embedded server runs as its own system user when root.
    work = Path(tempfile.mkdtemp(prefix="dpabot-demo-"))
    os.chmod(work, 0o755)  # the embedded server runs as its own system user when root
    try:
        proc = dpabot("demo", "--workdir", str(work), "--json")
        assert proc.returncode == 0, proc.stderr
        (work / "demo.stderr").write_text(proc.stderr)
        yield work, json.loads(proc.stdout)
    finally:
        stop_embedded(work)
        shutil.rmtree(work, ignore_errors=True)


def test_a_successful_demo_prints_no_warning(demo):
    work, _ = demo
    said = (work / "demo.stderr").read_text()
    assert "WARNING" not in said and "staff notification" not in said, said


def test_demo_completes_with_two_valid_signatures_and_a_timestamp(demo):
    work, out = demo
    assert out["state"] == "completed"
    assert out["archive_id"]
    pdf = Path(out["pdf"])
    assert pdf.is_file() and pdf.is_relative_to(work)
    assert {s["party"] for s in out["signatures"]} == {"processor", "customer"}
    assert all(s["valid"] for s in out["signatures"])
    signers = {s["party"]: s["signer"] for s in out["signatures"]}
    assert signers["customer"] == "Karolien Piskor"
    assert out["timestamp"]
    assert Path(out["trust_root"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    with pikepdf.open(pdf) as doc:  # still PDF/A after signing
        assert doc.open_metadata().pdfa_status.startswith("2")
    # Independent validators: poppler (NSS) and qpdf. The demo's PKI has stopped, so no OCSP.
    nssdir = work / "nss"
    nssdir.mkdir(exist_ok=True)
    sigs = pdfsig_signatures(pdf, nss_db(Path(out["trust_root"]), nssdir), no_ocsp=True)
    regular = [s for s in sigs if s["Signature Field Name"] in ("Processor", "Customer")]
    assert len(regular) == 2
    assert all(s["Signature Validation"] == "Signature is Valid." for s in regular), sigs
    assert all(s["Certificate Validation"] == "Certificate is Trusted." for s in regular), sigs
    qpdf_check(pdf)


def test_verify_passes_with_the_dev_root_and_fails_without_or_tampered(demo, tmp_path):
    _, out = demo
    ok = dpabot("verify", out["pdf"], "--trust", out["trust_root"], "--json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    report = json.loads(ok.stdout)
    assert report["ok"] and len(report["signatures"]) == 2
    assert all(s["ades_status"] == "PASSED" for s in report["signatures"])
    untrusted = dpabot("verify", out["pdf"])
    assert (untrusted.returncode, untrusted.stderr) == (1, "")  # no pyHanko traceback
    assert untrusted.stdout.splitlines()[-1] == (
        "Verdict: NOT valid: no trust root was given, so no certificate chain is trusted; "
        "pass --trust ROOT.pem (the signers' root certificates)."
    )
    data = bytearray(Path(out["pdf"]).read_bytes())
    at = data.index(b"Artikel") if b"Artikel" in data else len(data) // 3
    data[at] ^= 0x01
    bad = tmp_path / "tampered.pdf"
    bad.write_bytes(bytes(data))
    tampered = dpabot("verify", str(bad), "--trust", out["trust_root"])
    assert (tampered.returncode, tampered.stderr) == (1, "")
    assert tampered.stdout.splitlines()[-1].startswith("Verdict: NOT valid: ")


def test_archive_search_and_get_by_customer_and_enterprise_number(demo, tmp_path):
    work, out = demo
    env = {"DPABOT_DATA_DIR": str(work)}
    found = dpabot("archive", "search", "MOOI", "--tenant", "ibeauty", "--json", env=env)
    assert found.returncode == 0, found.stderr
    rows = json.loads(found.stdout)
    assert out["archive_id"] in [r["id"] for r in rows]
    by_number = json.loads(
        dpabot("archive", "search", "0840465705", "--tenant", "ibeauty", "--json", env=env).stdout
    )
    assert out["archive_id"] in [r["id"] for r in by_number]
    nothing = json.loads(
        dpabot("archive", "search", "UTOPIA", "--tenant", "ibeauty", "--json", env=env).stdout
    )
    assert nothing == []
    target = tmp_path / "copy.pdf"
    got = dpabot("archive", "get", out["archive_id"], "-o", str(target), env=env)
    assert got.returncode == 0, got.stderr
    assert target.read_bytes() == Path(out["pdf"]).read_bytes()
    unknown_tenant = dpabot("archive", "search", "MOOI", "--tenant", "nobody", env=env)
    assert unknown_tenant.returncode == 2 and "no tenant 'nobody'" in unknown_tenant.stderr


def test_archive_certificate_of_the_demo_contract(demo, tmp_path):
    work, out = demo
    config = str(work / "dpabot.toml")
    target = tmp_path / "certificate.pdf"
    got = dpabot("archive", "certificate", out["archive_id"], "-o", str(target), "--config", config)
    assert got.returncode == 0, got.stderr
    assert f"certificate of completion of archive entry {out['archive_id']}" in got.stdout
    with pikepdf.open(target) as doc:  # PDF/A, like the contract
        assert doc.open_metadata().pdfa_status.startswith("2")
    text = subprocess.run(
        ["pdftotext", "-raw", str(target), "-"], capture_output=True, text=True
    ).stdout
    signed_sha = Path(out["pdf"]).stem
    for words in ("Certificaat van voltooiing", out["archive_id"], signed_sha, "Karolien Piskor"):
        assert words in text, words
    nssdir = tmp_path / "nss"
    nssdir.mkdir()
    (seal,) = [
        s
        for s in pdfsig_signatures(target, nss_db(Path(out["trust_root"]), nssdir), no_ocsp=True)
        if s.get("Signature Field Name") == "Seal"
    ]
    assert seal["Signature Validation"] == "Signature is Valid.", seal
    assert seal["Certificate Validation"] == "Certificate is Trusted.", seal
    qpdf_check(target)
    # Asked again: the same archived certificate, byte for byte.
    again = tmp_path / "again.pdf"
    dpabot("archive", "certificate", out["archive_id"], "-o", str(again), "--config", config)
    assert again.read_bytes() == target.read_bytes()
    unknown = dpabot(
        "archive", "certificate", "20000101-0000000000", "-o", str(again), "--config", config
    )
    assert unknown.returncode != 0 and "no archive entry 20000101-0000000000" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1, unknown.stderr


def test_parse_reply_json(tmp_path):
    eml = tmp_path / "reply.eml"
    eml.write_text(
        "From: Karolien <karolien@mooi.example>\nTo: dpa@ibeauty.example\nSubject: Re\n\n"
        + DEMO_ANSWERS
        + "\nOp 23 nov. 2026 schreef iBeauty:\n> 1. Onderwerp: oud\n"
    )
    proc = dpabot("parse-reply", str(eml), "--template", "ibeauty", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) >= {
        "fields",
        "missing",
        "invalid",
        "accept",
        "decline",
        "change_requests",
        "questions",
        "auto_reply",
        "language",
    }
    assert out["missing"] == [] and out["accept"] is False and out["language"] == "nl"
    assert out["fields"]["data_subjects"] == "Klanten van het schoonheidsinstituut."
    assert "oud" not in json.dumps(out["fields"])
    unknown = dpabot("parse-reply", str(eml), "--template", "nope")
    assert unknown.returncode == 2 and "nope" in unknown.stderr


def test_output_into_a_closed_pipe_is_no_error(tmp_path):
    """`dpabot … | head`: the reader leaves early; no 'unexpected error' sentence follows."""
    eml = tmp_path / "reply.eml"
    eml.write_text("From: k@mooi.example\nTo: dpa@ibeauty.example\nSubject: Re\n\n" + DEMO_ANSWERS)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.app.cli", "parse-reply", str(eml), "--template", "ibeauty"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the command has written anything: its first write fails
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) != 0
    assert stderr == "", stderr


def test_render_example_and_bad_data(tmp_path):
    example = ROOT / "templates" / "documents" / "ibeauty" / "example-000.json"
    target = tmp_path / "out.pdf"
    ok = dpabot("render", "--template", "ibeauty", "--data", str(example), "-o", str(target))
    assert ok.returncode == 0, ok.stderr
    assert target.read_bytes().startswith(b"%PDF")
    bad = tmp_path / "bad.json"
    data = json.loads(example.read_text())
    data["fields"]["customer_enterprise_number"] = "BE0840.465.706"
    bad.write_text(json.dumps(data))
    refused = dpabot("render", "--template", "ibeauty", "--data", str(bad), "-o", str(target))
    assert refused.returncode == 2
    assert "customer_enterprise_number" in refused.stderr and refused.stderr.count("\n") == 1
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"customer_name": "MOOI Schoonheidsverzorging"}))
    refused = dpabot("render", "--template", "ibeauty", "--data", str(flat), "-o", str(target))
    assert refused.returncode == 2
    assert refused.stderr == (
        "dpabot: 'customer_name' is a field of template 'ibeauty': put it under 'fields'. "
        'The data must be an object like {"processor": {"name": "…"}, "fields": '
        '{"customer_name": "…"}} (its keys: processor, fields, version, draft, amendments).\n'
    )


def test_bad_config_file_fails_in_one_sentence(tmp_path):
    cfg = tmp_path / "dpabot.toml"
    cfg.write_text('data_dir = "var"\ntenants = ["t.toml"]\n')
    (tmp_path / "t.toml").write_text('slug = "Acme BV"\nname = "X"\n')
    proc = dpabot("serve", "--config", str(cfg))
    assert proc.returncode == 2
    assert "t.toml: key 'slug' must be 2 to 63 lowercase letters" in proc.stderr
    assert proc.stderr.count("\n") == 1


@pytest.mark.parametrize("template", ["ibeauty", "also", "clauses", "it4professionals"])
def test_render_every_template_final_and_draft(template, tmp_path):
    from templates import load_manifest, read_form_fields

    manifest = load_manifest(template)
    data = manifest.directory / manifest.examples[0].data
    final, draft = tmp_path / "final.pdf", tmp_path / "draft.pdf"
    assert (
        dpabot("render", "--template", template, "--data", str(data), "-o", str(final)).returncode
        == 0
    )
    assert (
        dpabot(
            "render", "--template", template, "--data", str(data), "-o", str(draft), "--draft"
        ).returncode
        == 0
    )
    assert list(read_form_fields(draft.read_bytes())) == [f.id for f in manifest.annex_fields]
    assert read_form_fields(final.read_bytes()) == {}
