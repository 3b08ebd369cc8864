"""Invitation drafts of a bulk send: one shared Typst render, each customer's values stamped in."""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.contracts import drafts
from bot.jobs import cpu
from templates import documents, read_form_fields
from tests.fixtures.runtime import make_tenant


def pdftotext(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return re.sub(r"\s+", " ", out.stdout.decode("utf-8"))


def checked(pdf: bytes, tmp: Path) -> None:
    """qpdf finds no structural error and every font pdffonts lists is embedded."""
    path = tmp / "draft.pdf"
    path.write_bytes(pdf)
    subprocess.run(["qpdf", "--check", str(path)], capture_output=True, check=True)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True)
    rows = fonts.stdout.decode().splitlines()[2:]
    assert rows and all(row.split()[-5] == "yes" for row in rows), rows  # the emb column


def party(name: str, number: str, rep: str, function: str = "Zaakvoerder") -> dict[str, str]:
    return {
        "customer_name": name,
        "customer_enterprise_number": number,
        "customer_representative": rep,
        "customer_representative_function": function,
        "customer_email": "x@klant.example",
    }


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch):
    """The CPU pool as threads of this process: they see the test's template folder."""
    executor = ThreadPoolExecutor(2)
    monkeypatch.setattr(cpu, "_pool", executor)
    yield executor
    executor.shutdown()


async def test_two_customers_each_get_their_own_values_from_one_shared_render(tmp_path: Path):
    tenant = make_tenant()
    send = drafts.Drafts(tenant)
    before = drafts.renders
    mooi = await send.pdf(party("MOOI Schoonheidsverzorging", "BE0840.465.705", "Karolien Piskor"))
    utopia = await send.pdf(party("UTOPIA Kapsalon", "BE0863.643.458", "Tineke Verellen", "CEO"))
    assert drafts.renders - before == 1  # the document was laid out once for both

    mooi_text, utopia_text = pdftotext(mooi), pdftotext(utopia)
    for mine in ("MOOI Schoonheidsverzorging", "BE0840.465.705", "Karolien Piskor"):
        assert mine in mooi_text and mine not in utopia_text
    for mine in ("UTOPIA Kapsalon", "BE0863.643.458", "Tineke Verellen", "CEO"):
        assert mine in utopia_text and mine not in mooi_text
    assert "iBeauty BVBA" in mooi_text  # the tenant's own text is the shared part
    for pdf in (mooi, utopia):
        checked(pdf, tmp_path)
        assert pdf.startswith(b"%PDF")
        # Bijlage 1 stays fillable, prefilled with the tenant's proposals.
        assert "subject" in read_form_fields(pdf)


async def test_a_customer_without_an_enterprise_number_shares_a_render_without_that_gap():
    tenant = make_tenant()
    send = drafts.Drafts(tenant)
    text = pdftotext(await send.pdf(party("Bakkerij Peeters", "", "Jan Peeters")))
    assert "Bakkerij Peeters" in text and "Jan Peeters" in text
    assert "met ondernemingsnummer" not in text.split("Leverancier")[0]


async def test_a_value_the_stamp_cannot_show_is_rendered_whole(tmp_path: Path):
    tenant = make_tenant()
    pdf = await drafts.Drafts(tenant).pdf(
        party("Łódź Handel", "BE0840.465.705", "Żaneta Wiśniewska")
    )
    text = pdftotext(pdf)
    assert "Łódź Handel" in text and "Żaneta Wiśniewska" in text
    checked(pdf, tmp_path)


async def test_a_changed_template_text_gives_a_new_shared_render(
    tmp_path: Path, threads: ThreadPoolExecutor
):
    # A template folder of its own (a tenant's, given by path), so its text can be edited.
    folder = tmp_path / "templates"
    shutil.copytree(documents.DOCUMENTS_DIR / "ibeauty", folder / "ibeauty")
    tenant = make_tenant().model_copy(update={"template": str(folder / "ibeauty")})
    values = party("MOOI Schoonheidsverzorging", "BE0840.465.705", "Karolien Piskor")
    before = drafts.renders
    first = pdftotext(await drafts.Drafts(tenant).pdf(values))
    assert "De ondergetekenden" in first
    assert drafts.renders - before == 1
    again = pdftotext(await drafts.Drafts(tenant).pdf(values))
    assert again == first and drafts.renders - before == 1  # same text version: no new render

    typ = folder / "ibeauty" / "dpa.typ"
    typ.write_text(typ.read_text().replace("De ondergetekenden", "Ondergetekenden hierbij"))
    changed = pdftotext(await drafts.Drafts(tenant).pdf(values))
    assert drafts.renders - before == 2
    assert "Ondergetekenden hierbij" in changed and "De ondergetekenden" not in changed
    assert "MOOI Schoonheidsverzorging" in changed
