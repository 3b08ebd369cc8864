"""The verification page in a real browser: Debian's chromium, headless, driven by Playwright
(never a downloaded browser). A person picks the demo's PDF and reads "valid", then a
byte-flipped copy and reads "changed"; in Dutch by the browser's language.

`DPABOT_UPDATE_SCREENSHOT=1` also writes the valid result to docs/verify-page.png (README)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.acceptance.test_verify_web import flipped

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Debian's chromium is not installed (./dev test installs it)",
)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # --no-sandbox: the tests run as root in CI, where chromium's sandbox refuses to start.
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _check(browser, url: str, pdf: Path, locale: str):
    context = browser.new_context(locale=locale, viewport={"width": 900, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.set_input_files("input[type=file]", str(pdf))
    page.click("button[type=submit]")
    page.wait_for_selector("#result", timeout=300_000)
    return context, page


def test_the_demo_pdf_reads_valid_and_a_flipped_copy_changed_in_a_browser(
    browser, verify_web, demo_install, tmp_path
):
    context, page = _check(browser, f"{verify_web.url}/", demo_install.pdf, "en-GB")
    result = page.locator("#result")
    assert result.get_attribute("data-verdict") == "valid"
    assert "Valid: every signature is intact and trusted" in result.inner_text()
    assert page.locator(".sig[data-status=valid]").count() == 2
    assert "Karolien Piskor" in result.inner_text()
    assert page.locator("#archive").get_attribute("data-match") == "yes"
    shot = tmp_path / "verify-page.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("DPABOT_UPDATE_SCREENSHOT") == "1":
        shutil.copy(shot, ROOT / "docs" / "verify-page.png")
    context.close()

    bad = tmp_path / "contract.pdf"
    bad.write_bytes(flipped(demo_install.pdf))
    context, page = _check(browser, f"{verify_web.url}/", bad, "nl-BE")
    result = page.locator("#result")
    assert result.get_attribute("data-verdict") == "changed"
    assert "Gewijzigd: dit document werd na het ondertekenen veranderd." in result.inner_text()
    assert page.locator(".sig[data-status=changed]").count() == 2
    assert page.locator("#archive").get_attribute("data-match") == "no"
    context.close()
