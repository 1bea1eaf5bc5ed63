"""The fleet index in a real browser (Debian's Chromium, driven by Playwright), written from
entries built in tests/test_fleet_index.py (no fleet run): the counters first, the roll-up,
a failed row's error shown as text, headers that sort by mouse and keyboard and say so with
aria-sort, no console error and no request leaving the file. The screenshot is kept in
reports/browser-check/ for a person to look at."""

import pytest
from playwright.sync_api import sync_playwright

from analysis import browser as system_browser
from analysis import config, fleet_index
from tests.test_fleet_index import FINISHED, INJECTED, fleet_of_every_kind

SCREEN = {"width": 1280, "height": 800}
ROWS = "#services tbody tr"


def _services(page) -> list[str]:
    return page.locator(f"{ROWS} td:first-child").all_inner_texts()


def _sort_state(page) -> dict[str, str]:
    return page.evaluate("""() => Object.fromEntries(Array.from(
        document.querySelectorAll('th[aria-sort]'),
        th => [th.textContent.trim(), th.getAttribute('aria-sort')]))""")


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    reports = tmp_path_factory.mktemp("index")
    from types import SimpleNamespace
    result = SimpleNamespace(run_id="20261126T100000Z-abcdef", seconds=12.3,
                             entries=fleet_of_every_kind(), exit_code=1)
    fleet_index.write(result, reports, FINISHED, FINISHED, gate=False)
    return reports / "index.html"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=system_browser.chromium(),
                                              args=system_browser.LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def opened(browser, index):
    errors, requests = [], []
    page = browser.new_page(viewport=SCREEN)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(index.as_uri())
    page.wait_for_load_state("load")
    yield page, errors, requests
    page.close()


def test_the_counters_come_first_in_the_first_screen(opened):
    page, *_ = opened
    assert page.evaluate("document.querySelector('h1').nextElementSibling.id") == "counters"
    counters = page.locator("#counters").bounding_box()
    assert counters["y"] + counters["height"] <= SCREEN["height"]
    assert counters["y"] < page.locator("#services").bounding_box()["y"]
    assert page.locator("#counters li").all_inner_texts() == [
        "1\nready", "4\nblocked", "1\nfailed", "2\nskipped (unchanged, not rerun)"]
    shot = config.PROJECT_ROOT / "reports" / "browser-check" / "index.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)


def test_the_rollup_says_what_each_fix_unblocks(opened):
    page, *_ = opened
    assert page.locator("#rollup li").all_inner_texts() == [
        "Fixing DNS search-list expansion unblocks 2 services (flip-api, listings-api); "
        "also needed, with other fixes, by 1 more (combo-api).",
        "Fixing credential refresh on every request unblocks 1 service (search-api); "
        "also needed, with other fixes, by 1 more (combo-api).",
        "Fixing credential refresh on every request with DNS search-list expansion "
        "unblocks 1 service (combo-api)."]
    page.locator("#rollup a", has_text="listings-api").click()
    assert page.evaluate("location.hash") == "#row-listings-api"
    assert page.locator("#row-listings-api").is_visible()


def test_a_failed_rows_error_is_shown_as_text_with_a_link(opened):
    page, *_ = opened
    row = page.locator("#row-broken-api")
    assert INJECTED in row.locator(".error").first.inner_text()
    assert page.evaluate("window.injected") is None and row.locator("b").count() == 0
    assert row.get_by_role("link", name="the failed run's notebooks").get_attribute(
        "href") == ".failed/broken-api/"


def test_clicking_a_header_sorts_and_sets_aria_sort(opened):
    page, *_ = opened
    assert _sort_state(page) == {}  # the fleet's own order
    gap = page.get_by_role("button", name="gap p50 (ms)")
    gap.click()
    assert _sort_state(page) == {"gap p50 (ms)": "ascending"}
    assert _services(page) == ["payments-api", "flip-api", "listings-api", "combo-api",
                               "search-api", "broken-api"]  # no gap: last
    gap.click()
    assert _sort_state(page) == {"gap p50 (ms)": "descending"}
    assert _services(page)[:2] == ["search-api", "combo-api"]
    assert _services(page)[-1] == "broken-api"  # still last
    assert "Sorted by gap p50 (ms), descending" in page.locator("#sort-status").inner_text()


def test_enter_and_space_on_a_header_sort_too(opened):
    page, *_ = opened
    service = page.get_by_role("button", name="service", exact=True)
    service.focus()
    page.keyboard.press("Enter")
    assert _sort_state(page) == {"service": "ascending"}
    names = _services(page)
    assert names == sorted(names)
    page.keyboard.press("Space")
    assert _sort_state(page) == {"service": "descending"}
    assert _services(page) == sorted(names, reverse=True)


def test_trend_lines_have_an_accessible_name_with_their_scale(opened):
    page, *_ = opened
    trend = page.locator("#row-search-api svg.trend")
    assert trend.get_attribute("aria-label").startswith(
        "p50 gap over the last 3 runs: lowest +40 ms, highest +120 ms, latest +120 ms")
    assert trend.locator("text").all_text_contents() == ["+120 ms", "+40 ms"]


def test_no_console_errors_and_no_request_leaves_the_file(opened):
    page, errors, requests = opened
    for button in page.locator("th button").all():
        button.click()
    assert errors == []
    assert [r for r in requests if not r.startswith(("file:", "data:"))] == []


def test_printed_at_a4_width_nothing_is_cut(browser, index):
    page = browser.new_page(viewport={"width": 718, "height": 1000})  # A4 less 10 mm margins
    try:
        page.emulate_media(media="print")
        page.goto(index.as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= 718
    finally:
        page.close()


def test_dark_mode_changes_the_colours(browser, index):
    page = browser.new_page(viewport=SCREEN, color_scheme="dark")
    try:
        page.goto(index.as_uri())
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == \
            "rgb(22, 24, 28)"
    finally:
        page.close()
