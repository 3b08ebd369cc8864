"""`dpabot demo --seed 000…004`: the whole chain for each seed's tenant and customer, in one
work folder on one embedded PostgreSQL; then the README's commands on the demo's data with the
configuration the demo wrote (issue 16)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.embedded import stop_embedded
from tests.acceptance.test_cli import dpabot

# Per seed: tenant, the customer's signer, and answers of the reply as they must stand in the
# contract (field id → value).
SEEDS = {
    "000": (
        "ibeauty",
        "Karolien Piskor",
        {"data_subjects": "Klanten van het schoonheidsinstituut."},
    ),
    "001": (
        "ibeauty",
        "Tineke Verellen",
        {"duration": "Zolang wij de software van iBeauty gebruiken."},
    ),
    "002": (
        "also",
        "Hilde Lambrecht",
        {
            "also_table_data": "Naam, adres, contactgegevens en bankrekeningnummers van onze "
            "klanten.",
            "dpo_email": "ferdinand.hiddink@also.example",
        },
    ),
    "003": (
        "clauses",
        "Els Van Damme",
        {"duration": "Zolang Verwerker BV onze webwinkel host en beheert."},
    ),
    "004": ("it4professionals", "Sofie Claes", {"dpo_name": "Pieter Wouters"}),
}


@pytest.fixture(scope="module")
def demos() -> Iterator[tuple[Path, dict[str, dict]]]:
    """Every seed demoed in one folder (pytest's base folder is made private by each pytest run
    that starts on the machine, so the embedded server's own user gets a folder of its own)."""
    work = Path(tempfile.mkdtemp(prefix="dpabot-seeds-"))
    os.chmod(work, 0o755)
    try:
        results = {}
        for seed in SEEDS:
            proc = dpabot("demo", "--seed", seed, "--workdir", str(work), "--json")
            assert proc.returncode == 0, f"seed {seed}: {proc.stderr}"
            results[seed] = json.loads(proc.stdout)
        yield work, results
    finally:
        stop_embedded(work)
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_each_seed_ends_signed_by_its_parties_with_the_customers_answers(demos, seed) -> None:
    _, results = demos
    out = results[seed]
    tenant, signer, answers = SEEDS[seed]
    assert out["state"] == "completed" and out["tenant"] == tenant
    signers = {s["party"]: s["signer"] for s in out["signatures"]}
    assert signers["customer"] == signer
    assert signers["processor"].startswith(tenant)
    assert len(out["signatures"]) == 2 and all(s["valid"] for s in out["signatures"])
    shown = dpabot(
        "--config", out["config"], "contracts", "show", str(out["contract_id"]), "--json"
    )
    assert shown.returncode == 0, shown.stderr
    contract = json.loads(shown.stdout)
    assert contract["tenant"] == tenant and contract["state"] == "completed"
    for field, value in answers.items():
        assert contract["fields"][field] == value


def test_the_demos_configuration_lists_every_tenant_and_serves_the_readme_commands(
    demos, tmp_path
) -> None:
    work, results = demos
    config = str(work / "dpabot.toml")
    assert {r["config"] for r in results.values()} == {config}
    for tenant in {t for t, _, _ in SEEDS.values()}:
        outs = [r for r in results.values() if r["tenant"] == tenant]
        found = dpabot("--config", config, "archive", "search", "--tenant", tenant, "--json")
        assert found.returncode == 0, found.stderr
        assert {r["archive_id"] for r in outs} <= {row["id"] for row in json.loads(found.stdout)}
        for out in outs:
            copy = tmp_path / f"{out['archive_id']}.pdf"
            got = dpabot("archive", "get", out["archive_id"], "-o", str(copy), "--config", config)
            assert got.returncode == 0, got.stderr
            assert copy.read_bytes() == Path(out["pdf"]).read_bytes()
        audit = dpabot("--config", config, "audit", "--tenant", tenant, "--verify")
        assert audit.returncode == 0, audit.stdout + audit.stderr
