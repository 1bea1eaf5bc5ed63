"""report.html in a real browser (Debian's Chromium, driven by Playwright): no console error,
no request to any other address, and the verdict in the first screen. The screenshot is kept
in reports/browser-check/ for a person to look at."""

import pytest
from playwright.sync_api import sync_playwright

from analysis import browser as system_browser
from analysis import config, pipeline
from analysis.errors import ConfigError
from tests.conftest import EXAMPLES

SCREEN = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def opened(search_report):
    _, reports, _, _ = search_report
    errors, requests = [], []
    shot = config.PROJECT_ROOT / "reports" / "browser-check" / "search-api.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=system_browser.chromium(),
                                             args=system_browser.LAUNCH_ARGS)
        page = browser.new_page(viewport=SCREEN)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto((reports / "search-api" / "report.html").as_uri())
        page.wait_for_load_state("load")
        banner = page.locator(".lg-banner").bounding_box()
        images = page.locator("img").count()
        page.screenshot(path=str(shot))
        browser.close()
    return errors, requests, banner, images, shot


def test_no_console_errors(opened):
    errors, *_ = opened
    assert errors == []


def test_no_request_leaves_the_file(opened):
    _, requests, *_ = opened
    assert [r for r in requests if not r.startswith(("file:", "data:"))] == []


def test_the_verdict_banner_is_in_the_first_screen_and_figures_render(opened):
    _, _, banner, images, shot = opened
    assert banner is not None and banner["y"] + banner["height"] <= SCREEN["height"]
    assert images >= 4
    assert shot.stat().st_size > 10_000


def test_format_pdf_publishes_a_pdf_printed_by_the_system_chromium(tmp_path):
    result = pipeline.report("payments-api", EXAMPLES, tmp_path, pdf=True,
                                   say=lambda m: None)
    pdf = (result.folder / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 20_000
    assert (result.folder / "report.html").is_file()


def test_format_pdf_without_chromium_fails_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setattr(system_browser.shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="apt-get install chromium"):
        pipeline.report("payments-api", EXAMPLES, tmp_path, pdf=True, say=lambda m: None)
    assert not (tmp_path / "payments-api").exists()
