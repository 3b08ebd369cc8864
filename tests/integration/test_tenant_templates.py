"""A tenant's own template folder (`templates_dir`): its imported template drafts a real
invitation (rendered in the spawned CPU pool), and no other tenant may use it."""

from __future__ import annotations

import email
import email.policy
import mailbox
import os
import secrets
import subprocess
from pathlib import Path

import pytest

from bot import contracts
from bot.app.cli import main
from bot.errors import ConfigError
from bot.jobs import run_jobs_until_idle
from templates import read_form_fields
from tests.fixtures.runtime import make_tenant

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def imported(folder: Path, seed: str = "004") -> str:
    """A seed imported into `folder` under a fresh id (ids are unique per process)."""
    (path,) = SEEDS.glob(f"{seed}_*.txt")
    tid = f"own-{secrets.token_hex(3)}"
    assert main(["template", "import", str(path), "--id", tid, "--dir", str(folder)]) == 0
    return tid


def own_tenant(folder: Path, template: str):
    tenant = make_tenant(transport="maildir")
    return tenant.model_copy(update={"template": template, "templates_dir": folder})


async def test_tenant_invites_with_its_own_imported_template(runtime_factory, tmp_path):
    folder = tmp_path / "templates"
    tid = imported(folder)
    tenant = own_tenant(folder, tid)
    rt = await runtime_factory([tenant])
    cid = await contracts.add_customer(
        rt,
        tenant.slug,
        name="Atelier Groen BV",
        enterprise_number="BE0403.170.701",
        representative="Sofie Claes",
        email="sofie@groen.example",
    )
    await contracts.invite(rt, tenant.slug, cid)
    await run_jobs_until_idle(rt)
    box = mailbox.Maildir(rt.maildir(tenant.slug, "outbox"), create=False)
    (raw,) = [box.get_bytes(k) for k in box.iterkeys()]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    (pdf,) = [p.get_content() for p in msg.walk() if p.get_content_type() == "application/pdf"]
    # The imported template's annex (seed 004: data, subjects, DPO) as fillable fields.
    assert sorted(read_form_fields(pdf)) == sorted(
        ["data_types", "data_subjects", "dpo_name", "dpo_phone", "dpo_email"]
    )
    text = subprocess.run(
        ["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "Atelier Groen BV" in text
    assert "Functionaris voor gegevensbescherming" in text


async def test_another_tenant_may_not_use_it(runtime_factory, tmp_path):
    folder = tmp_path / "a"
    tid = imported(folder)
    owner = own_tenant(folder, tid)
    (tmp_path / "b").mkdir()
    other = own_tenant(tmp_path / "b", tid)
    with pytest.raises(ConfigError, match=f"template '{tid}' of tenant {owner.slug}"):
        await runtime_factory([owner, other])
    stranger = make_tenant(transport="maildir").model_copy(update={"template": tid})
    with pytest.raises(ConfigError, match="not packaged"):
        await runtime_factory([stranger])


async def test_a_folder_reusing_a_packaged_id_is_refused(runtime_factory, tmp_path):
    folder = tmp_path / "templates"
    tid = imported(folder)
    (folder / tid).rename(folder / "ibeauty")
    with pytest.raises(ConfigError, match="id of a packaged template"):
        await runtime_factory([own_tenant(folder, "ibeauty")])


def test_render_finds_a_tenant_template_by_id_through_the_configuration(tmp_path, capsys):
    folder = tmp_path / "templates"
    tid = imported(folder)
    (tmp_path / "tenants").mkdir()
    (tmp_path / "dpabot.toml").write_text('tenants = ["tenants/own.toml"]\n', encoding="utf-8")
    (tmp_path / "tenants" / "own.toml").write_text(
        f'slug = "own"\nname = "Own BV"\ntemplate = "{tid}"\ntemplates_dir = "../templates"\n'
        'representative = "Jan"\n[mail]\naddress = "dpa@own.example"\ntransport = "maildir"\n',
        encoding="utf-8",
    )
    data = tmp_path / "data.json"
    data.write_text('{"fields": {}}', encoding="utf-8")
    out = tmp_path / "draft.pdf"
    argv = ["render", "--template", tid, "--data", str(data), "-o", str(out), "--draft"]
    config = ["--config", str(tmp_path / "dpabot.toml")]
    assert main([*argv, *config]) == 0
    assert "dpo_email" in read_form_fields(out.read_bytes())
    assert main(["template", "check", tid, "--json", *config]) == 0


async def test_a_template_folder_reads_nothing_outside_itself(runtime_factory, tmp_path, capsys):
    """attack2: a tenant's template is Typst code compiled in a copy of its folder, so it can
    read nothing else; a symbolic link in the folder (copied as the file it points to) or a
    folder that is a link would let it print another tenant's files into a contract."""
    secret = tmp_path / "other-tenant" / "signing-key.pem"
    secret.parent.mkdir()
    secret.write_text("TOPSECRET-KEY-42\n")
    folder = tmp_path / "templates"
    tid = imported(folder)
    (folder / tid / "note.txt").symlink_to(secret)
    with (folder / tid / "dpa.typ").open("a") as typ:
        typ.write(f'\n#read("/{tid}/note.txt")\n')
    tenant = own_tenant(folder, tid)
    with pytest.raises(ConfigError, match="symbolic link"):
        await runtime_factory([tenant])
    # Nor as a folder path on the command line: one sentence, nothing written.
    out = tmp_path / "out.pdf"
    data = str(folder / tid / "example.json")
    capsys.readouterr()
    argv = ["render", "--template", str(folder / tid), "--data", data, "-o", str(out), "--draft"]
    assert main(argv) == 2
    assert "symbolic link" in capsys.readouterr().err and not out.exists()
    # The template folder itself a link to another tenant's folder.
    (folder / tid / "note.txt").unlink()
    other = tmp_path / "b"
    other_tid = imported(other)
    (folder / f"{other_tid}-copy").symlink_to(other / other_tid, target_is_directory=True)
    with pytest.raises(ConfigError, match="is a symbolic link"):
        await runtime_factory([tenant])
    # A pipe would hang the copy: refused too.
    (folder / f"{other_tid}-copy").unlink()
    os.mkfifo(folder / tid / "pipe")
    with pytest.raises(ConfigError, match="not a plain file"):
        await runtime_factory([tenant])
    (folder / tid / "pipe").unlink()
    rt = await runtime_factory([tenant])  # the folder as imported: fine
    assert rt.tenant(tenant.slug).template == tid
