"""The fleet's index: REPORTS_DIR/fleet.json and one self-contained, sortable index.html.

It renders the entries analysis/fleet.py decided (status, readiness, "worse", the order);
it decides nothing.

Every value that came from evidence, config or an error message is escaped. The page has
no external resource: its CSS, its sorting script and its trend lines (SVG) are inline.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from html import escape
from pathlib import Path

from analysis import __version__

#: the files write() replaces, each through a temporary file beside it
WRITTEN = ("fleet.json", "index.html")


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def remove_temporary(reports: Path) -> None:
    """Remove the temporary files a killed run left (call with the fleet lock held)."""
    for name in WRITTEN:
        for leftover in reports.glob(f".{name}.tmp-*"):
            leftover.unlink(missing_ok=True)


def write(result, reports: Path, started: datetime, finished: datetime, gate: bool) -> None:
    counts = {s: sum(e["status"] == s for e in result.entries)
              for s in ("ok", "skipped", "failed")}
    data = {"run_id": result.run_id, "started": started.isoformat(),
            "finished": finished.isoformat(), "seconds": round(result.seconds, 1),
            "tool_version": __version__, "gate": gate, "exit_code": result.exit_code,
            "counts": counts, "services": result.entries}
    _atomic_write(reports / WRITTEN[0], json.dumps(data, indent=2, default=str) + "\n")
    _atomic_write(reports / WRITTEN[1], render(data))


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:+.0f} ms"


def sparkline(trend: list[dict], width: int = 120, height: int = 28) -> str:
    """p50 gap over the runs as an inline SVG line; red dots where the service was blocked."""
    points = [(i, t["gap_p50"], t["ready"]) for i, t in enumerate(trend)
              if t["gap_p50"] is not None]
    if not points:
        return ""
    low, high = min(p[1] for p in points), max(p[1] for p in points)
    span, step = (high - low) or 1.0, width / max(len(trend) - 1, 1)

    def xy(i: int, value: float) -> tuple[float, float]:
        return 2 + i * step * (width - 4) / width, height - 3 - (value - low) / span * (height - 6)

    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v, _ in points))
    dots = "".join(f'<circle cx="{xy(i, v)[0]:.1f}" cy="{xy(i, v)[1]:.1f}" r="2" '
                   f'fill="{"#1b7837" if ok else "#b2182b"}"/>' for i, v, ok in points)
    title = escape(", ".join(f"{v:+.0f}" for _, v, _ in points))
    return (f'<svg width="{width}" height="{height}" role="img"><title>p50 gap by run (ms): '
            f'{title}</title><polyline points="{path}" fill="none" stroke="#555" '
            f'stroke-width="1.2"/>{dots}</svg>')


#: the status column sorts as the fleet orders its entries: failures first, then blocked
_STATES = ("failed", "blocked", "ready")


def _row(e: dict) -> str:
    name = escape(e["service"])
    link = f'<a href="{escape(e["report"], quote=True)}">{name}</a>' if e["report"] else name
    if e["status"] == "failed":
        state = "FAILED" + (" (report below is stale)" if e["stale"] else "")
        state_class = "failed"
    else:
        state = "READY" if e["ready"] else "BLOCKED"
        state_class = "ready" if e["ready"] else "blocked"
    change = ""
    if e["change"]:
        c = e["change"]
        change = f'p50 {c["p50_ms"]:+.0f}, p99 {c["p99_ms"]:+.0f} ms'
        if c["was_ready"] != e["ready"]:
            change += f'; was {"READY" if c["was_ready"] else "BLOCKED"}'
    if e["worse"]:
        change = f"<strong>worse</strong>: {change}"
    note = escape(e["error"] or ("unchanged, not rerun" if e["status"] == "skipped" else ""))
    cells = [
        (name, link), (_STATES.index(state_class),
                       f'<span class="{state_class}">{escape(state)}</span>'),
        (e["cause"] or "", escape(e["cause"] or "")),
        (" ".join(e["blockers"]), escape(", ".join(e["blockers"]))),
        (e["gap_p50"] if e["gap_p50"] is not None else "", _ms(e["gap_p50"])),
        (e["gap_p99"] if e["gap_p99"] is not None else "", _ms(e["gap_p99"])),
        (e["change"]["p50_ms"] if e["change"] else "", change),
        ("", sparkline(e["trend"])), (e["error"] or e["status"], note),
    ]
    return "<tr>" + "".join(f'<td data-sort="{escape(str(key), quote=True)}">{html}</td>'
                            for key, html in cells) + "</tr>"


_SCRIPT = """
document.querySelectorAll("th[data-col]").forEach(function (th) {
  th.addEventListener("click", function () {
    var body = th.closest("table").tBodies[0], col = +th.dataset.col;
    var up = th.dataset.dir !== "asc"; th.dataset.dir = up ? "asc" : "desc";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.sort, y = b.cells[col].dataset.sort;
      var nx = parseFloat(x), ny = parseFloat(y);
      var d = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return up ? d : -d;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"""

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 1em auto; padding: 0 1em;
       color: #222; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
th, td { text-align: left; padding: 0.3em 0.6em; border-bottom: 1px solid #ddd;
         vertical-align: middle; }
th { cursor: pointer; user-select: none; background: #f3f3f3; }
th:hover { background: #e6e6e6; }
.failed { color: #fff; background: #b2182b; padding: 0 0.4em; }
.blocked { color: #b2182b; font-weight: bold; }
.ready { color: #1b7837; font-weight: bold; }
small { color: #666; }
"""


#: nothing is loaded from anywhere: the page's own inline style and script only
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def render(data: dict) -> str:
    header = ["service", "status", "cause", "blocked by", "gap p50", "gap p99",
              "change since last run", "trend (p50 gap)", "note"]
    heads = "".join(f'<th data-col="{i}">{escape(h)}</th>' for i, h in enumerate(header))
    counts = data["counts"]
    ready = sum(e["ready"] for e in data["services"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<title>latency-gap fleet: {escape(data["run_id"])}</title><style>{_STYLE}</style></head>
<body>
<h1>Migration readiness</h1>
<p><strong>{ready} of {len(data["services"])} services ready.</strong>
Run {escape(data["run_id"])}: {counts["ok"]} processed, {counts["skipped"]} unchanged since their
last run, {counts["failed"]} failed; {data["seconds"]} s. Click a column to sort.</p>
<table><thead><tr>{heads}</tr></thead>
<tbody>{"".join(_row(e) for e in data["services"])}</tbody></table>
<p><small>latency-gap {escape(data["tool_version"])} &middot; started
{escape(data["started"][:19])} UTC &middot; finished {escape(data["finished"][:19])} UTC
&middot; exit code {data["exit_code"]}
{"(gate on)" if data["gate"] else ""} &middot; the same data: fleet.json &middot; history:
history.duckdb</small></p>
<script>{_SCRIPT}</script>
</body></html>
"""
