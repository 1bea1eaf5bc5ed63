"""The system's Chromium, driven by Playwright: report.pdf, and the browser check in tests.

nbconvert's webpdf exporter (7.17) launches only the Chromium build Playwright downloads
(`playwright install chromium`); it has no option for another executable. The machines this
tool runs on have no network beyond package registries, so the PDF is printed from the
finished report.html by Debian's `chromium` package instead, with print media and
backgrounds, the way webpdf prints it. Nothing is downloaded.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from analysis.errors import ConfigError

#: as root there is no sandbox; no background traffic (the network here is closed)
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync"]


def chromium() -> str:
    """Path of the system Chromium, or a clear error saying how to install it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise ConfigError("FORMAT=pdf needs the system Chromium: `sudo apt-get install "
                          "chromium` (Debian/Ubuntu); no browser is downloaded")
    return found


def write_pdf(html: Path, pdf: Path) -> Path:
    """Print a self-contained HTML file to PDF with the system Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        raise ConfigError("FORMAT=pdf needs Playwright: pip install -e '.[pdf]'") from None
    executable = chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.emulate_media(media="print")
            page.goto(html.resolve().as_uri(), wait_until="load")
            page.pdf(path=str(pdf), format="A4", print_background=True,
                     margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})
        finally:
            browser.close()
    return pdf
