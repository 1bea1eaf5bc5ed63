"""The system's Chromium, driven by Playwright: report.pdf, `make screenshots`, and the browser
check in tests.

nbconvert's webpdf exporter (7.17) launches only the Chromium build Playwright downloads
(`playwright install chromium`); it has no option for another executable. The machines this
tool runs on have no network beyond package registries, so the PDF is printed from the
finished report.html by Debian's `chromium` package instead, with print media and
backgrounds, the way webpdf prints it. Nothing is downloaded.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

from analysis.errors import ConfigError

#: as root there is no sandbox; no background traffic (the network here is closed)
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync"]
#: A4 printed with write_pdf's margins: the width the print layout has, in CSS px (96/in)
A4_MM, PRINT_MARGIN_MM = (210, 297), 10
PRINT_WIDTH_PX = round((A4_MM[0] - 2 * PRINT_MARGIN_MM) / 25.4 * 96)


def chromium(what: str = "FORMAT=pdf") -> str:
    """Path of the system Chromium, or a clear error saying how to install it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise ConfigError(f"{what} needs the system Chromium: `sudo apt-get install "
                          "chromium` (Debian/Ubuntu); no browser is downloaded")
    return found


@contextmanager
def launched(what: str = "FORMAT=pdf"):
    """The system Chromium under Playwright, closed on leaving; `what` names the feature in
    the error when either is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        raise ConfigError(f"{what} needs Playwright: pip install -e '.[pdf]'") from None
    executable = chromium(what)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def write_pdf(html: Path, pdf: Path) -> Path:
    """Print a self-contained HTML file to PDF with the system Chromium."""
    with launched() as browser:
        page = browser.new_page()
        page.emulate_media(media="print")
        page.goto(html.resolve().as_uri(), wait_until="load")
        side = f"{PRINT_MARGIN_MM}mm"
        page.pdf(path=str(pdf), format="A4", print_background=True,
                 margin={"top": "12mm", "bottom": "12mm", "left": side, "right": side})
    return pdf
