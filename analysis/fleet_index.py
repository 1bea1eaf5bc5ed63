"""The fleet's index: REPORTS_DIR/fleet.json and one self-contained, sortable index.html.

It renders the entries analysis/fleet.py decided (status, readiness, "worse", the order) and
what analysis/fleet_digest.py says of them (counters, words, the roll-up); it decides nothing.
The page answers a manager first: how many services are ready, blocked, failed and skipped,
what fixing each blocker unblocks, then one row per service.

Every value that came from evidence, config or an error message is escaped. The page has
no external resource: its CSS (templates/fleet-index/index.css), its sorting script
(sort.js) and its trend lines (SVG, analysis/trendline.py) are inline.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from html import escape
from pathlib import Path

from analysis import __version__, fleet_digest, trendline

ASSETS = Path(__file__).parent / "templates" / "fleet-index"

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


def document(result, started: datetime, finished: datetime, gate: bool) -> dict:
    """fleet.json: the run, its counts, the roll-up, and every entry with its words."""
    entries = result.entries
    counts = {s: sum(e["status"] == s for e in entries) for s in ("ok", "skipped", "failed")}
    digest = fleet_digest.counters(entries)
    return {"run_id": result.run_id, "started": started.isoformat(),
            "finished": finished.isoformat(), "seconds": round(result.seconds, 1),
            "tool_version": __version__, "gate": gate, "exit_code": result.exit_code,
            "counts": {**counts, "ready": digest["ready"], "blocked": digest["blocked"]},
            "rollup": fleet_digest.rollup(entries),
            "services": [{**e, **fleet_digest.describe(e)} for e in entries]}


def write(result, reports: Path, started: datetime, finished: datetime, gate: bool) -> None:
    data = document(result, started, finished, gate)
    _atomic_write(reports / WRITTEN[0], json.dumps(data, indent=2, default=str) + "\n")
    _atomic_write(reports / WRITTEN[1], render(data))


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:+.0f} ms"


def _when(iso: str) -> str:
    """An ISO time as the page shows it: "2026-11-23 10:00 UTC"."""
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")


#: the status column sorts as the fleet orders its entries: failures first, then blocked
_STATES = ("failed", "blocked", "ready")


def _state(e: dict) -> str:
    label = {"failed": "FAILED", "blocked": "BLOCKED", "ready": "READY"}[e["state"]]
    stale = '<br><small>the linked report is the last good run\'s</small>' if e["stale"] else ""
    return f'<span class="state {e["state"]}">{label}</span>{stale}'


def _cause(e: dict) -> str:
    words = escape(e["cause_words"])
    if e["state"] == "failed":
        return f"<small>last good run:</small> {words}" if e["stale"] and words else ""
    return words


def _blockers(e: dict) -> str:
    if not e["blockers"]:
        return ""
    return '<ul class="blockers">' + "".join(
        f'<li title="{escape(b, quote=True)}">{escape(w)}</li>'
        for b, w in zip(e["blockers"], e["blockers_words"], strict=True)) + "</ul>"


def _change(e: dict) -> str:
    parts = []
    if e["previous"] is None:
        parts.append('<span class="muted">first run</span>')
    elif e["change_words"]:
        parts.append(f'<span class="change">{escape(e["change_words"])}</span>')
    elif e["state"] == "failed":
        parts.append('<span class="muted">failed again</span>')
    else:
        parts.append('<span class="muted">same verdict</span>')
    if e["change"]:
        c = e["change"]
        parts.append(f'<small>gap p50 {c["p50_ms"]:+.0f} ms, p99 {c["p99_ms"]:+.0f} ms</small>')
    if e["worse"]:
        parts.insert(0, "<strong>worse</strong>")
    return "<br>".join(parts)


def _note(e: dict, finished: datetime) -> str:
    if e["state"] == "failed":
        link = (f'<br><a href="{escape(e["failed_run"], quote=True)}">the failed run\'s '
                "notebooks</a>" if e.get("failed_run") else "")
        first, _, rest = (e["error"] or "failed").partition("\n")
        error = f'<pre class="error">{escape(first)}</pre>'
        if rest.strip():
            error += (f'<details><summary>the whole error</summary><pre class="error">'
                      f"{escape(rest)}</pre></details>")
        return error + link
    if e["status"] == "skipped":
        since = e.get("unchanged_since")
        if since:
            age = fleet_digest.age_words(datetime.fromisoformat(since), finished)
            return (f"unchanged since {escape(_when(since))} ({escape(age)}), not rerun")
        return "unchanged, not rerun"
    return ""


def _row(e: dict, finished: datetime) -> str:
    name = escape(e["service"])
    link = f'<a href="{escape(e["report"], quote=True)}">{name}</a>' if e["report"] else name
    latest = next((t["gap_p50"] for t in reversed(e["trend"]) if t["gap_p50"] is not None), "")
    cells = [
        (e["service"], link, ""),
        (_STATES.index(e["state"]), _state(e), ""),
        (e["cause_words"], _cause(e), ""),
        (" ".join(e["blockers_words"]), _blockers(e), ""),
        (e["gap_p50"] if e["gap_p50"] is not None else "", _ms(e["gap_p50"]), "num"),
        (e["gap_p99"] if e["gap_p99"] is not None else "", _ms(e["gap_p99"]), "num"),
        (2 if e["worse"] else 1 if e["change_words"] else 0, _change(e), ""),
        (latest, trendline.svg(e["trend"]), ""),
        (e["error"] or e.get("unchanged_since") or "", _note(e, finished), ""),
    ]
    return f'<tr id="row-{escape(e["service"], quote=True)}" class="row-{e["state"]}">' + \
        "".join(f'<td data-sort="{escape(str(key), quote=True)}"' + (f' class="{css}"' if css
                else "") + f">{html}</td>" for key, html, css in cells) + "</tr>"


def _counters(counts: dict, total: int) -> str:
    tiles = [("ready", "ready"), ("blocked", "blocked"), ("failed", "failed"),
             ("skipped", "skipped (unchanged, not rerun)")]
    items = "".join(f'<li class="c-{key}"><strong>{counts[key]}</strong>{label}</li>'
                    for key, label in tiles)
    return (f'<ul class="counters" id="counters" aria-label="services by state, of {total}">'
            f"{items}</ul>")


def _row_link(service: str) -> str:
    return f'<a href="#row-{escape(service, quote=True)}">{escape(service)}</a>'


def _rollup(groups: list[dict]) -> str:
    if not groups:
        return '<p id="rollup">Nothing is blocked.</p>'
    items = []
    for g in groups:
        text = fleet_digest.rollup_sentence(g, name=_row_link, words=escape)
        text = text[0].upper() + text[1:]
        items.append(f"<li>{text}.</li>")
    return (f'<ul class="rollup" id="rollup">{"".join(items)}</ul><p class="rule">A service '
            "counts under a fix only when that fix clears all its blockers; a service with "
            "two blockers counts under both together (&ldquo;with&rdquo;), never under either "
            "alone. Failed services are not counted.</p>")


#: nothing is loaded from anywhere: the page's own inline style and script only
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

HEADER = ["service", "status", "cause", "blocked by", "gap p50 (ms)", "gap p99 (ms)",
          "change since last run", "p50 gap, last runs", "note"]


def render(data: dict) -> str:
    """index.html from fleet.json's document."""
    heads = "".join(f'<th scope="col"><button type="button" data-col="{i}">{escape(h)}'
                    "</button></th>" for i, h in enumerate(HEADER))
    counts, total = data["counts"], len(data["services"])
    finished = datetime.fromisoformat(data["finished"])
    style, script = (ASSETS / "index.css").read_text(), (ASSETS / "sort.js").read_text()
    rows = "".join(_row(e, finished) for e in data["services"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<title>latency-gap fleet: {escape(data["run_id"])}</title><style>{style}</style></head>
<body>
<h1>Migration readiness: {counts["ready"]} of {total} services ready</h1>
{_counters(counts, total)}
<p>Run {escape(data["run_id"])}, finished {escape(_when(data["finished"]))}:
{counts["ok"]} processed, {counts["skipped"]} unchanged since their last run, {counts["failed"]}
failed; {data["seconds"]} s.</p>
<h2>What fixing unblocks</h2>
{_rollup(data.get("rollup") or [])}
<h2>Services</h2>
<div class="table-wrap"><table id="services"><caption>Failures first, then blocked services
(largest p50 gap first), then ready ones. Each column header sorts the table.</caption>
<thead><tr>{heads}</tr></thead>
<tbody>{rows}</tbody></table></div>
<p id="sort-status" class="sr-only" aria-live="polite"></p>
<p><small>latency-gap {escape(data["tool_version"])} &middot; started
{escape(data["started"][:19])} UTC &middot; finished {escape(data["finished"][:19])} UTC
&middot; exit code {data["exit_code"]}
{"(gate on)" if data["gate"] else ""} &middot; the same data: fleet.json &middot; history:
history.duckdb</small></p>
<script>{script}</script>
</body></html>
"""
