"""HTML pieces of the report. Every value from evidence or config is escaped here."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path

import pandas as pd
from IPython.display import HTML

from analysis import __version__, durations
from analysis.attribution import Analysis
from analysis.decision import OVER, UNDECIDED, WITHIN
from analysis.fingerprint import combine
from analysis.ingest import Evidence
from analysis.latency_digest import LatencyDigest
from analysis.models.dns import lookup_table

_CAUSE_WORDS = {
    "credential_refresh": "credential refresh", "dns": "DNS resolution",
    "both": "credential refresh and DNS", "none": "no gap beyond budget",
    "unexplained": "unexplained", "inconclusive": "inconclusive",
}

_DECISION_WORDS = {OVER: "over", WITHIN: "within", UNDECIDED: "undecided against"}


def _gap(analysis: Analysis, quantile: str) -> str:
    """The gap with its interval, and whether it is decided against the budget."""
    decided = analysis.verdict.get("by_quantile", {}).get(quantile)
    against = f"{_DECISION_WORDS[decided['decision']]} its {decided['budget_ms']:g} ms " \
              "budget" if decided else ""
    gap = analysis.gap_ms.get(quantile)
    if not gap:
        return f"n/a <small>({against})</small>" if against else "n/a"
    low, high = gap["ci95"]
    return (f"{gap['value']:+.0f} ms <small>(95% CI {low:+.0f} to {high:+.0f}"
            f"{'; ' + against if against else ''})</small>")


def _what_if(overrides: dict | None) -> str:
    """The banner's line naming a what-if run's overrides (empty for service.yaml as is)."""
    if not overrides:
        return ""
    given = ", ".join(f"<code>{escape(str(k))}={escape(str(v))}</code>"
                      for k, v in overrides.items())
    return (f'<div class="lg-what-if"><strong>What if:</strong> {given} (--set, this run '
            "only; service.yaml says otherwise)</div>")


def banner(analysis: Analysis, what_if: dict | None = None) -> HTML:
    """The verdict: service, cause, gap at p50 and p99, ready or blocked, one sentence, and
    the what-if overrides the run was made with."""
    ready = analysis.verdict["ready"]
    colour = "#1b7837" if ready else "#b2182b"
    return HTML(
        f'<div class="lg-banner" style="border-left:8px solid {colour};padding:0.6em 1em;'
        f'background:#f7f7f7;font-size:1.05em">'
        f'<h1>{escape(analysis.service)}: '
        f'{"READY" if ready else "BLOCKED"} &middot; '
        f'{escape(_CAUSE_WORDS[analysis.verdict["cause"]])}</h1>'
        f'<div>{escape(analysis.candidate)} vs {escape(analysis.baseline)} &middot; gap p50 '
        f'{_gap(analysis, "p50")} &middot; p99 {_gap(analysis, "p99")}</div>'
        f'<div>{escape(analysis.verdict["summary"])}</div>{_what_if(what_if)}</div>'
    )


def table(frame: pd.DataFrame, empty: str = "none") -> HTML:
    """A DataFrame as an escaped HTML table."""
    if frame.empty:
        return HTML(f"<p><em>{escape(empty)}</em></p>")
    return HTML(frame.to_html(index=False, escape=True, border=0, na_rep="",
                              classes="lg-table"))


def findings_table(findings: list[dict]) -> HTML:
    """Findings with their fix and the gap predicted once the fix is made."""
    frame = pd.DataFrame(findings, columns=["severity", "id", "evidence", "fix", "gain_ms",
                                            "gap_after_fix_ms"])
    frame["gap after fix (ms)"] = [
        f"p50 {after['p50']:+.0f}, p99 {after['p99']:+.0f}" if after else ""
        for after in frame.pop("gap_after_fix_ms").fillna("")]
    return table(frame.rename(columns={"gain_ms": "p50 gain (ms)"}), "no findings")


def latency_table(analysis: Analysis) -> HTML:
    rows = [{"environment": env, **values} for env, values in analysis.latency_ms.items()]
    return table(pd.DataFrame(rows))


def latency_summary(latency: LatencyDigest) -> pd.DataFrame:
    """Count, mean, spread and quantiles of backend latency (ms) per environment."""
    return latency.summary


def inputs_table(evidence: Evidence) -> HTML:
    frame = evidence.inputs.copy()
    frame.loc[frame["files"] == 0, "formats"] = "MISSING"
    return table(frame)


def skipped_table(evidence: Evidence) -> HTML:
    """Lines that are neither records nor errors, counted by what they are."""
    return table(evidence.skipped_lines(), "no skipped lines")


def rejected_table(evidence: Evidence, limit: int = 20) -> HTML:
    return table(evidence.rejected.head(limit), "no rejected lines")


def time_ranges(evidence: Evidence, analysis: Analysis,
                latency: LatencyDigest | None = None) -> HTML:
    """When each kind of evidence was collected, and whether the two environments overlap;
    from the latency digest's when given (a loaded result has no latency rows)."""
    overlap = latency.overlap if latency else evidence.overlap(analysis.baseline,
                                                               analysis.candidate)
    if overlap is None:
        said = "The latency logs have no timestamps in one environment: overlap unknown."
    elif overlap > pd.Timedelta(0):
        said = (f"The {escape(analysis.baseline)} and {escape(analysis.candidate)} latency "
                f"logs overlap for {durations.span(overlap)}.")
    else:
        said = (f"<strong>The {escape(analysis.baseline)} and {escape(analysis.candidate)} "
                f"latency logs do not overlap</strong> ({durations.span(-overlap)} apart): load "
                "and time of day may explain part of the gap.")
    ranges = (latency.ranges if latency else evidence.time_ranges()).copy()
    for column in ("first", "last"):
        # a kind without timestamps in one environment (grep'd dig lines) leaves objects
        ranges[column] = pd.to_datetime(ranges[column], utc=True) \
            .dt.strftime("%Y-%m-%d %H:%M:%S UTC").fillna("")
    return HTML(table(ranges).data + f"<p>{said}</p>")


def failed_fetches_table(evidence: Evidence) -> HTML:
    """Every credential fetch that got no credential, per environment, with where it is."""
    failed = evidence.credentials[evidence.credentials["code"] != "Success"]
    fetched = pd.to_datetime(failed["fetched_at"], utc=True)
    frame = pd.DataFrame({"environment": failed["env"], "why": failed["code"],
                          "file": [Path(f).name for f in failed["source_file"]],
                          "line": failed["line"],
                          "fetched at": fetched.dt.strftime("%Y-%m-%d %H:%M:%S UTC")})
    return table(frame, "every credential fetch got a credential")


def dns_table(analysis: Analysis, evidence: Evidence) -> HTML:
    return table(lookup_table(analysis.dns, evidence.resolv, evidence.dig), "no dig evidence")


def footer(parameters: dict, files: dict[str, str]) -> HTML:
    """Tool version, generation time, parameters, and the fingerprint of every evidence file."""
    params = ", ".join(f"{escape(str(k))}={escape(str(v))}" for k, v in parameters.items())
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = "".join(f"<tr><td>{escape(name)}</td><td><code>{digest[:16]}</code></td></tr>"
                   for name, digest in files.items())
    return HTML(f'<div class="lg-footer"><small>latency-gap {escape(__version__)} &middot; '
                f'generated {when} &middot; parameters: {params} &middot; evidence '
                f'fingerprint <code>{combine(files)[:16]}</code> (SHA-256 of {len(files)} '
                f'files)<details><summary>evidence files</summary><table class="lg-table">'
                f'<tr><th>file</th><th>SHA-256 (first 16)</th></tr>{rows}</table></details>'
                f'</small></div>')
