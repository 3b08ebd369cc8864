"""`dpabot customers import` and `dpabot send` through the command line, on the test database."""

from __future__ import annotations

import email
import email.policy
import io
import json
import mailbox
import os
import pty
import secrets
import select
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]

CSV = """Naam;E-mail;Vertegenwoordiger;Ondernemingsnummer;Taal
MOOI Schoonheidsverzorging;karolien@mooi.example;Karolien Piskor;BE0840.465.705;nl
UTOPIA;tineke@utopia.example;Tineke Verellen;;nl
Boulangerie Dupont;marie@dupont.example;Marie Dupont;;fr
"""


class Site:
    """A dpabot.toml with one maildir tenant on the session's test database."""

    def __init__(self, root: Path, database_url: str) -> None:
        self.root = root
        self.database_url = database_url
        self.slug = f"cli{secrets.token_hex(3)}"
        (root / f"{self.slug}.toml").write_text(
            f'slug = "{self.slug}"\nname = "iBeauty BVBA"\ntemplate = "ibeauty"\n'
            'enterprise_number = "BE0662.785.756"\nrepresentative = "Michel Smekens"\n'
            f'[mail]\naddress = "dpa@{self.slug}.example"\ntransport = "maildir"\n'
        )
        self.config = root / "dpabot.toml"
        self.config.write_text(
            f'data_dir = "{root / "var"}"\ndatabase_url = "{database_url}"\n'
            f'tenants = ["{root / f"{self.slug}.toml"}"]\n'
        )

    def env(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("DPABOT_DATABASE_URL", None)
        return env

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.app.cli", *args, "--config", str(self.config)],
            capture_output=True,
            text=True,
            env=self.env(),
            stdin=subprocess.DEVNULL,  # not a terminal, as in a script or CI
            timeout=300,
        )

    def customer_ids(self) -> list[int]:
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute(
                "SELECT c.id FROM customers c JOIN tenants t ON t.id = c.tenant_id "
                "WHERE t.slug = %s ORDER BY c.id",
                (self.slug,),
            ).fetchall()
        return [r[0] for r in rows]

    def outbox(self) -> list[email.message.EmailMessage]:
        box = mailbox.Maildir(self.root / "var" / "mail" / self.slug / "outbox", create=True)
        return [
            email.message_from_bytes(box.get_bytes(k), policy=email.policy.default)  # type: ignore[misc]
            for k in box.iterkeys()
        ]


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Site:
    os.chmod(tmp_path, 0o755)
    return Site(tmp_path, database_url)


def test_import_then_send_all(site: Site):
    customers = site.root / "klanten.csv"
    customers.write_text(CSV, encoding="utf-8")
    first = site.run("customers", "import", "--tenant", site.slug, str(customers))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"Imported 3 new customers into {site.slug} from {customers} (csv (UTF-8, semicolon)).",
        f"Invite them with: dpabot send --tenant {site.slug} --all",
    ]
    again = site.run("customers", "import", "--tenant", site.slug, str(customers))
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1] == (
        "Skipped 3 already a customer (left unchanged): row 2 (karolien@mooi.example), "
        "row 3 (tineke@utopia.example), row 4 (marie@dupont.example)."
    )
    assert len(site.customer_ids()) == 3

    refused = site.run("send", "--tenant", site.slug, "--all")
    assert refused.returncode == 2
    assert refused.stderr == (
        "dpabot: Sending needs a confirmation and there is no terminal to ask on; "
        "add --yes to send without asking.\n"
    )
    assert site.outbox() == []

    sent = site.run("send", "--tenant", site.slug, "--all", "--yes")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout == f"Invited 3 customers of {site.slug}; 3 invitation mails sent.\n"
    assert sent.stderr == ""  # no progress bar when stderr is not a terminal
    mails = site.outbox()
    assert sorted(str(m["To"]) for m in mails) == [
        "karolien@mooi.example",
        "marie@dupont.example",
        "tineke@utopia.example",
    ]
    for mail in mails:
        (pdf,) = mail.iter_attachments()
        assert pdf.get_content_type() == "application/pdf"
        assert pdf.get_content().startswith(b"%PDF")

    nothing = site.run("send", "--tenant", site.slug, "--all", "--yes")
    assert nothing.returncode == 0, nothing.stderr
    assert nothing.stdout == (
        f"Nothing to send: every customer of {site.slug} has been invited already.\n"
    )
    ids = site.customer_ids()
    mixed = site.run("send", "--tenant", site.slug, "--customer", str(ids[0]), "999999", "--yes")
    assert mixed.returncode == 1
    assert mixed.stdout.splitlines() == [
        f"Invited 0 customers of {site.slug}; 0 invitation mails sent.",
        f"Skipped 1 invited already: customer {ids[0]}.",
    ]
    assert mixed.stderr == (
        "not invited: customer 999999: There is no customer 999999 for this tenant.\n"
    )
    assert len(site.outbox()) == 3

    # Where they stand: invited, none archived.
    listed = site.run("contracts", "list", "--tenant", site.slug, "--state", "invited")
    assert listed.returncode == 0, listed.stderr
    table = listed.stdout.splitlines()
    assert table[0].split() == ["ID", "TENANT", "STATE", "CUSTOMER", "EMAIL", "UPDATED"]
    assert len(table) == 4 and all(f"{site.slug}  invited" in row for row in table[1:])
    one = site.run("contracts", "list", "--customer", "0840 465 705", "--json")
    (mooi,) = json.loads(one.stdout)
    assert (mooi["tenant"], mooi["state"], mooi["email"]) == (
        site.slug,
        "invited",
        "karolien@mooi.example",
    )
    shown = site.run("contracts", "show", str(mooi["id"]), "--json")
    assert json.loads(shown.stdout)["state"] == "invited"
    bad_state = site.run("contracts", "list", "--state", "sent")
    assert bad_state.returncode == 2 and bad_state.stderr.startswith(
        "dpabot: There is no contract state 'sent'; the states are draft, invited, collecting"
    )
    search = site.run("archive", "search", "--tenant", site.slug, "--state", "invited")
    assert search.returncode == 0, search.stderr
    assert search.stdout == (
        "Nothing archived matches; 3 contracts match but are not archived yet (3 invited): "
        f"see dpabot contracts list --tenant {site.slug} --state invited.\n"
    )
    search = site.run("archive", "search", "mooi", "--tenant", site.slug, "--json")
    assert (search.returncode, search.stdout) == (0, "[]\n")
    assert search.stderr == (
        "Nothing archived matches; 1 contract matches but is not archived yet (1 invited): "
        f"see dpabot contracts list --tenant {site.slug} --customer mooi.\n"
    )
    nothing_at_all = site.run("archive", "search", "nobody-like-this", "--tenant", site.slug)
    assert nothing_at_all.stdout == "Nothing found.\n"


def test_import_with_problems_prints_each_row_and_imports_nothing(site: Site):
    bad = site.root / "klanten.csv"
    bad.write_text(
        CSV + "Zonder Mail;;Jan;;nl\nSlecht;slecht@;Piet;BE0840.465.706;de\n", encoding="utf-8"
    )
    proc = site.run("customers", "import", "--tenant", site.slug, str(bad))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "row 5: the email address is empty.",
        "row 6: 'slecht@' is not a valid email address (write only the address).",
        "row 6: 'BE0840.465.706' is not a valid enterprise number (Belgian: 10 digits whose "
        "last two are the mod-97 check, e.g. BE0840.465.705).",
        "row 6: the language 'de' is not known; use nl, fr or en.",
        f"dpabot: Nothing was imported: {bad} has 4 problems; fix them and import the file again.",
    ]
    assert site.customer_ids() == []


def test_import_xlsx_and_cp1252_csv(site: Site):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Nom", "Courriel", "Représentant", "Numéro d'entreprise", "Langue", "Notes"])
    sheet.append(["Café Élan", "eve@elan.example", "Ève Müller", 840465705, "fr", "VIP"])
    out = io.BytesIO()
    book.save(out)
    xlsx = site.root / "clients.xlsx"
    xlsx.write_bytes(out.getvalue())
    proc = site.run("customers", "import", "--tenant", site.slug, str(xlsx))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[:2] == [
        f"Imported 1 new customer into {site.slug} from {xlsx} (xlsx).",
        "Columns not used: Notes.",
    ]
    windows = site.root / "klanten-windows.csv"
    windows.write_bytes(
        "Naam;E-mail;Vertegenwoordiger\nCrème & Co;c@creme.example;Zoë\n".encode("cp1252")
    )
    proc = site.run("customers", "import", "--tenant", site.slug, str(windows))
    assert proc.returncode == 0, proc.stderr
    assert "(csv (Windows-1252, semicolon))" in proc.stdout
    with psycopg.connect(site.database_url) as conn:
        names = conn.execute(
            "SELECT c.name, c.representative, c.enterprise_number, c.language FROM customers c "
            "JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = %s ORDER BY c.id",
            (site.slug,),
        ).fetchall()
    assert names == [
        ("Café Élan", "Ève Müller", "BE0840.465.705", "fr"),
        ("Crème & Co", "Zoë", None, "nl"),
    ]


def test_unknown_tenant_and_unreadable_file(site: Site):
    said = (
        f"dpabot: There is no tenant 'nobody' in this configuration (known: {site.slug}); "
        "a tenant's file must be listed in 'tenants' in dpabot.toml.\n"
    )
    mail = site.root / "x.eml"
    mail.write_bytes(b"From: a@b.example\r\n\r\nhi\r\n")
    for command in (
        ["customers", "import", "--tenant", "nobody", str(site.root / "x.csv")],
        ["customers", "erase", "--tenant", "nobody", "--email", "a@b.example"],
        ["send", "--tenant", "nobody", "--all", "--yes"],
        ["archive", "search", "--tenant", "nobody"],
        ["archive", "export", "--tenant", "nobody", "-o", str(site.root / "x.zip")],
        ["archive", "verify", "--all", "--tenant", "nobody"],
        ["audit", "--tenant", "nobody"],
        ["contracts", "list", "--tenant", "nobody"],
        ["contracts", "show", "1", "--tenant", "nobody"],
        ["contracts", "confirm-signer", "1", "--tenant", "nobody"],
        ["mail", "ingest", "--tenant", "nobody", str(mail)],
        ["tenant", "check", "nobody"],
    ):
        proc = site.run(*command)
        assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", said), command
    proc = site.run("customers", "import", "--tenant", site.slug, str(site.root / "missing.csv"))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"dpabot: The customer file {site.root / 'missing.csv'} cannot")
    proc = site.run("send", "--tenant", site.slug, "--yes")
    assert (
        proc.returncode == 2 and "one of the arguments --all --customer is required" in proc.stderr
    )


def _talk(site: Site, args: list[str], answer: str) -> tuple[int, str]:
    """Run dpabot on a pseudo-terminal, answer its question, return (exit code, what it wrote)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.app.cli", *args, "--config", str(site.config)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=site.env(),
        close_fds=True,
    )
    os.close(slave)
    seen = b""
    answered = False
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if not answered and b"[y/N]" in seen:
                os.write(master, answer.encode() + b"\n")
                answered = True
        elif proc.poll() is not None:
            break
    code = proc.wait(timeout=60)
    os.close(master)
    return code, seen.decode(errors="replace").replace("\r\n", "\n")


def test_send_asks_on_a_terminal_and_shows_progress(site: Site):
    customers = site.root / "klanten.csv"
    customers.write_text(CSV, encoding="utf-8")
    assert site.run("customers", "import", "--tenant", site.slug, str(customers)).returncode == 0

    code, out = _talk(site, ["send", "--tenant", site.slug, "--all"], "n")
    assert code == 1, out
    assert f"Send the invitation to 3 customers of iBeauty BVBA ({site.slug})? [y/N]" in out
    assert "Nothing was sent." in out
    assert site.outbox() == []

    ids = site.customer_ids()
    code, out = _talk(site, ["send", "--tenant", site.slug, "--customer", *map(str, ids[:2])], "y")
    assert code == 0, out
    assert "Send the invitation to 2 customers" in out
    assert "\rInviting [" in out and "] 2/2" in out  # the progress bar, redrawn in place
    assert f"Invited 2 customers of {site.slug}; 2 invitation mails sent." in out
    assert len(site.outbox()) == 2
