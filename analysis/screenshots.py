"""`make screenshots`: the example reports and the fleet index as a reader sees them,
for review (issue 18): on a desktop screen (1280 px), on a dark-mode desktop, and laid out
for print (print media, the width of an A4 page with report.pdf's margins).

A fleet run over the data folder builds the reports and index.html into <out>/site/ (removed
first: every run starts with an empty history, so the index shows no "since last run"
changes from an earlier screenshot run); the PNGs go to <out>/ (default
reports/screenshots/, git-ignored), named <page>-desktop.png, <page>-dark.png and
<page>-print.png, where <page> is a service name or "index". The browser is the system
Chromium (analysis/browser.py); nothing is downloaded.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from analysis import browser, config

DESKTOP = {"width": 1280, "height": 800}
#: the print layout: as wide as A4's printable width; the height only sets the first screen
PRINT = {"width": browser.PRINT_WIDTH_PX, "height": 1123}
#: name -> (viewport, media, colour scheme)
VIEWS = {"desktop": (DESKTOP, "screen", "light"),
         "dark": (DESKTOP, "screen", "dark"),
         "print": (PRINT, "print", "light")}


def shoot(browser_, html: Path, out: Path, name: str) -> list[Path]:
    """Full-page screenshots of one HTML file in every view; the paths written."""
    written = []
    for view, (viewport, media, scheme) in VIEWS.items():
        page = browser_.new_page(viewport=viewport, color_scheme=scheme)
        try:
            page.emulate_media(media=media)
            page.goto(html.resolve().as_uri(), wait_until="load")
            target = out / f"{name}-{view}.png"
            page.screenshot(path=str(target), full_page=True)
            written.append(target)
        finally:
            page.close()
    return written


def pages(site: Path) -> dict[str, Path]:
    """The pages a fleet run published under `site`: each service's report, then the index."""
    found = {folder.name: folder / "report.html" for folder in sorted(site.iterdir())
             if (folder / "report.html").is_file()}
    if (site / "index.html").is_file():
        found["index"] = site / "index.html"
    return found


def run(data_dir: str | Path | None = None, out: str | Path | None = None,
        only: list[str] | None = None,
        say: Callable[[str], None] | None = None) -> list[Path]:
    """Build the reports and the index with a fleet run, then screenshot them."""
    from analysis import fleet

    say = say or (lambda message: print(message, file=sys.stderr, flush=True))
    out = Path(out) if out else config.PROJECT_ROOT / "reports" / "screenshots"
    site = out / "site"
    browser.chromium("make screenshots")  # before minutes of work, not after
    if site.exists():
        shutil.rmtree(site)
    out.mkdir(parents=True, exist_ok=True)
    fleet.fleet(data_dir, site, only=only, say=say, progress=False)
    written = []
    with browser.launched("make screenshots") as chromium:
        for name, html in pages(site).items():
            written += shoot(chromium, html, out, name)
    say(f"screenshots: {len(written)} PNG files in {out}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.screenshots",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="evidence folder (default: $DATA_DIR or data/)")
    parser.add_argument("--out", help="where the PNGs go (default: reports/screenshots/)")
    parser.add_argument("--services", help="only these services, comma-separated")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.services.split(",") if s.strip()] if args.services \
        else None
    run(args.data_dir, args.out, only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
