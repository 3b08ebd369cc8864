"""Each mail attack of issue 13, tried by hand on the demo's data with two commands only:
`dpabot mail ingest` puts the mail through the listener's pipeline, `dpabot contracts show`
says what became of the contract (embedded PostgreSQL, Maildir, the dev PKI)."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import mailbox
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.app.demo import DEMO_ANSWERS, customer_reply
from storage.embedded import stop_embedded
from tests.acceptance.test_cli import dpabot

CUSTOMER = "sofie@salon-sofie.example"
ATTACKER = "attacker@evil.example"


class Demo:
    """The demo's work folder, its configuration and the second customer's contract."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.config = str(work / "dpabot.toml")
        self.n = 0

    def run(self, *args: str) -> dict:
        proc = dpabot(*args, "--config", self.config, "--json")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return json.loads(proc.stdout)

    def ingest(self, raw: bytes) -> dict:
        self.n += 1
        path = self.work / f"attack-{self.n}.eml"
        path.write_bytes(raw)
        return self.run("mail", "ingest", "--tenant", "ibeauty", str(path))

    def show(self, contract_id: int) -> dict:
        return self.run("contracts", "show", str(contract_id))

    def mails(self, kind: str) -> list[EmailMessage]:
        box = mailbox.Maildir(self.work / "mail" / "ibeauty" / "outbox", create=False)
        found = []
        for key in box.iterkeys():
            msg = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
            if msg["X-Dpabot-Kind"] == kind and CUSTOMER in str(msg["To"]):
                found.append(msg)
        return found  # type: ignore[return-value]


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[Demo, int]]:
    """`dpabot demo`, then a second customer invited with the CLI: (the demo, its contract)."""
    # Not under pytest's base folder: each pytest run starting on the machine makes that private
    # again, and the embedded server runs as its own system user when root.
    work = Path(tempfile.mkdtemp(prefix="dpabot-attacks-"))
    os.chmod(work, 0o755)  # the embedded server runs as its own system user when root
    try:
        proc = dpabot("demo", "--workdir", str(work), "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["config"] == str(work / "dpabot.toml")
        d = Demo(work)
        csv = work / "klanten.csv"
        csv.write_text(
            f"naam;e-mail;vertegenwoordiger\nSalon Sofie;{CUSTOMER};Sofie Peeters\n",
            encoding="utf-8",
        )
        for args in (
            ("customers", "import", "--tenant", "ibeauty", str(csv)),
            ("send", "--tenant", "ibeauty", "--all", "--yes"),
        ):
            proc = dpabot(*args, "--config", d.config)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        (invitation,) = d.mails("invitation")
        contract_id = int(re.search(r"\[ibeauty-(\d+)\]", str(invitation["Subject"]))[1])
        yield d, contract_id
    finally:
        stop_embedded(work)  # the demo leaves its server running for later commands
        shutil.rmtree(work, ignore_errors=True)


def _from(raw: bytes, *values: str) -> bytes:
    head, sep, body = raw.partition(b"\n\n")
    lines = [ln for ln in head.split(b"\n") if not ln.lower().startswith(b"from:")]
    return b"\n".join([*(f"From: {v}\r".encode() for v in values), *lines]) + sep + body


def test_forged_from_headers_are_refused(demo) -> None:
    d, contract_id = demo
    (invitation,) = d.mails("invitation")
    for values in (
        (f"{CUSTOMER} <{ATTACKER}>",),
        (f"{CUSTOMER}, {ATTACKER}",),
        (CUSTOMER, ATTACKER),
    ):
        result = d.ingest(_from(customer_reply(invitation, DEMO_ANSWERS, CUSTOMER), *values))
        assert result["outcome"] == "rejected_sender", (values, result)
    shown = d.show(contract_id)
    assert shown["state"] == "invited" and shown["signatures"] == []
    assert [m["outcome"] for m in shown["inbound"]] == ["rejected_sender"] * 3


def test_unknown_tokens_are_kept_and_answered_with_nothing(demo) -> None:
    d, _ = demo
    (invitation,) = d.mails("invitation")
    raw = customer_reply(invitation, "AKKOORD", ATTACKER)
    token = re.search(rb"\+([a-z2-7]{26})@", raw)[1]
    stranger = base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()
    result = d.ingest(raw.replace(token, stranger.encode()))
    assert result["outcome"] == "unknown_token" and result["contract"] is None


def test_an_acceptance_of_an_older_version_completes_nothing(demo) -> None:
    d, contract_id = demo
    (invitation,) = d.mails("invitation")
    assert d.ingest(customer_reply(invitation, DEMO_ANSWERS, CUSTOMER))["outcome"] == "applied"
    (v1,) = d.mails("final")
    # A changed answer makes a new final version (v2), mailed to the customer only.
    changed = DEMO_ANSWERS.replace("Klanten van het schoonheidsinstituut.", "Klanten en leden.")
    assert d.ingest(customer_reply(v1, changed, CUSTOMER))["outcome"] == "applied"
    shown = d.show(contract_id)
    assert shown["state"] == "awaiting_signature"
    assert len(d.mails("final")) == 2
    # AKKOORD answering v1 with its thread headers removed: nothing signed.
    old = customer_reply(v1, "AKKOORD", CUSTOMER)
    old = old.replace(b"In-Reply-To:", b"X-In-Reply-To:").replace(b"References:", b"X-Ref:")
    result = d.ingest(old)
    assert result["outcome"] == "not_counted", result
    shown = d.show(contract_id)
    assert shown["state"] == "awaiting_signature"
    assert {g["party"] for g in shown["signatures"]} == {"processor"}
    # The customer got the current version again, with its fingerprint.
    assert len(d.mails("final")) == 3


def test_a_dmarc_pass_for_another_domain_completes_nothing(demo) -> None:
    d, contract_id = demo
    tenant_file = d.work / "tenants" / "ibeauty.toml"
    before = tenant_file.read_text()
    # The tenant now trusts its own mail server's verdicts (and nothing without one).
    tenant_file.write_text(
        before.replace("[mail]\n", '[mail]\nauthserv_id = "mx.ibeauty.example"\n')
    )
    try:
        finals = d.mails("final")
        current = max(finals, key=lambda m: int(re.search(r"versie (\d+)", m["Subject"])[1]))
        akkoord = customer_reply(current, "AKKOORD", CUSTOMER)
        forged = (
            b"Authentication-Results: mx.ibeauty.example; dmarc=pass header.from=evil.example\r\n"
        )
        assert d.ingest(forged + akkoord)["outcome"] == "unauthenticated"
        assert d.show(contract_id)["state"] == "awaiting_signature"
        # The same acceptance with our server's aligned verdict is the customer's: it signs.
        aligned = forged.replace(b"evil.example", b"salon-sofie.example")
        genuine = aligned + customer_reply(current, "AKKOORD", CUSTOMER)
        assert d.ingest(genuine)["outcome"] == "applied"
        shown = d.show(contract_id)
        assert shown["state"] == "completed"
        assert {g["party"] for g in shown["signatures"]} == {"processor", "customer"}
    finally:
        tenant_file.write_text(before)
