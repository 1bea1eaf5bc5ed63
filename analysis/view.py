"""HTML pieces of the report. Every value from evidence or config is escaped here."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path

import pandas as pd
from IPython.display import HTML

from analysis import __version__, durations, stats, view_findings
from analysis.attribution import MONTE_CARLO_N, Analysis, sources
from analysis.decision import FLOOR_REQUESTS, requests_to_bound
from analysis.fingerprint import combine
from analysis.ingest import Evidence
from analysis.latency_digest import LatencyDigest
from analysis.models.dns import lookup_table


def table(frame: pd.DataFrame, empty: str = "none", name: str | None = None) -> HTML:
    """A DataFrame as an escaped HTML table; `name` gives it the id `tab-<name>` (the
    report's anchors), kept by the sentence that stands in for an empty table."""
    ident = f' id="tab-{escape(name)}"' if name else ""
    if frame.empty:
        return HTML(f"<p{ident}><em>{escape(empty)}</em></p>")
    # None in an object column is printed as "None" whatever na_rep says
    frame = frame.astype(object).where(frame.notna(), "")
    html = frame.to_html(index=False, escape=True, border=0, na_rep="", classes="lg-table",
                         table_id=f"tab-{name}" if name else None)
    return HTML(html)


def banner(analysis: Analysis, what_if: dict | None = None,
           findings: list[dict] | None = None) -> HTML:
    """The verdict banner (view_findings.banner): the page's <h1>, every blocker, the gap
    after the fixes."""
    return HTML(view_findings.banner(analysis, what_if, findings))


def findings(findings: list[dict], analysis: Analysis) -> HTML:
    """The findings section (view_findings.findings_section): a table with each fix's gain
    and the gap after all fixes, each finding with its fix to copy and links to its evidence,
    the checks that passed collapsed."""
    return HTML(view_findings.findings_section(findings, analysis))


#: the evidence tables' columns in words, with their units
_COLUMNS = {"env": "environment", "kind": "evidence", "files": "files", "lines": "lines",
            "rejected": "rejected lines", "skipped": "skipped lines", "formats": "formats",
            "latency_from": "backend time from", "what": "what the lines are",
            "source_file": "file", "line": "line", "reason": "why rejected", "text": "line text",
            "first": "first (UTC)", "last": "last (UTC)", "rows": "rows",
            "with a timestamp": "rows with a timestamp"}


def _words(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns=_COLUMNS)


def latency_table(analysis: Analysis) -> HTML:
    """Requests and backend latency quantiles (ms) per environment."""
    rows = [{"environment": env, "requests": values["n"],
             **{f"{q} (ms)": values.get(q) for q in ("p50", "p90", "p99")}}
            for env, values in analysis.latency_ms.items()]
    return table(pd.DataFrame(rows), "no latency evidence", "latency")


#: describe()'s columns in words, with their units
_SUMMARY_COLUMNS = {"count": "requests", "mean": "mean (ms)", "std": "standard deviation (ms)",
                    "min": "min (ms)", "50%": "p50 (ms)", "90%": "p90 (ms)", "99%": "p99 (ms)",
                    "max": "max (ms)"}


def latency_summary(latency: LatencyDigest) -> pd.DataFrame:
    """Requests, mean, spread and quantiles of backend latency (ms) per environment."""
    frame = latency.summary.rename(columns=_SUMMARY_COLUMNS).round(1)
    frame.index.name = "environment"
    if "requests" in frame.columns:
        frame["requests"] = frame["requests"].astype(int)
    return frame


def inputs_table(evidence: Evidence) -> HTML:
    """Files, lines, rejected and skipped lines per environment and kind of evidence."""
    frame = evidence.inputs.copy()
    frame.loc[frame["files"] == 0, "formats"] = "MISSING"
    return table(_words(frame), "no evidence read", "inputs")


def skipped_table(evidence: Evidence) -> HTML:
    """Lines that are neither records nor errors, counted by what they are."""
    return table(_words(evidence.skipped_lines()), "no skipped lines", "skipped")


def rejected_table(evidence: Evidence, limit: int = 20) -> HTML:
    """The first rejected lines, with file, line number and reason."""
    return table(_words(evidence.rejected.head(limit)), "no rejected lines", "rejected")


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
            .dt.strftime("%Y-%m-%d %H:%M:%S").fillna("no timestamps")
    return HTML(table(_words(ranges), "no evidence read", "time-ranges").data
                + f"<p>{said}</p>")


def failed_fetches_table(evidence: Evidence) -> HTML:
    """Every credential fetch that got no credential, per environment, with where it is."""
    failed = evidence.credentials[evidence.credentials["code"] != "Success"]
    fetched = pd.to_datetime(failed["fetched_at"], utc=True)
    frame = pd.DataFrame({"environment": failed["env"], "why": failed["code"],
                          "file": [Path(f).name for f in failed["source_file"]],
                          "line": failed["line"],
                          "fetched at (UTC)": fetched.dt.strftime("%Y-%m-%d %H:%M:%S")})
    return table(frame, "every credential fetch got a credential", "failed-fetches")


def dns_table(analysis: Analysis, evidence: Evidence) -> HTML:
    """Per environment and host name: what one uncached lookup queries and costs."""
    frame = lookup_table(analysis.dns, evidence.resolv, evidence.dig)
    if not frame.empty:
        frame["cache miss rate"] = [f"{x:.1%}" for x in frame["cache miss rate"]]
        frame["measured lookup (ms)"] = [
            "not timed" if value is None or pd.isna(value) else value
            for value in frame["measured lookup (ms)"]]
    shown = table(frame.rename(columns={"cache miss rate": "requests that miss the cache (%)",
                                        "search domains": "search domains (count)"}),
                  "no dig evidence", "dns")
    if not analysis.measured:
        return shown
    said = "; ".join(f"{escape(env)}: {escape(by_cause['dns'])}"
                     for env, by_cause in sources(analysis).items())
    return HTML(shown.data + f'<p class="lg-note">Per-request DNS time in the attribution: '
                f"{said}. For a measured environment the attribution draws its captured "
                "requests' DNS time, not this table's prediction.</p>")


def overhead_sources(analysis: Analysis) -> HTML:
    """Where each environment's per-request credential and DNS time comes from: the
    environment's packet captures (measured) or the model; nothing without captures."""
    if not analysis.measured:
        return HTML("")
    rows = [{"environment": env, "credential refresh time from": by_cause["credential_refresh"],
             "DNS time from": by_cause["dns"]} for env, by_cause in sources(analysis).items()]
    note = ('<p class="lg-note">Per-request time of each cause in the attribution above: '
            "measured from packet captures (each simulated request draws one captured "
            "request's DNS and metadata time) or from the model "
            '(<a href="#method">how this is computed</a>).</p>')
    return HTML(note + table(pd.DataFrame(rows), name="overhead-source").data)


#: the report's sections: (anchor, title); the notebook's headings carry these ids
SECTIONS = [("gap", "What the gap is made of"), ("findings", "Findings and fixes"),
            ("latency", "Latency"), ("dns", "DNS"), ("credentials", "Credentials"),
            ("data-quality", "Data quality"), ("method", "How this is computed")]


def contents(findings: list[dict] | None = None) -> HTML:
    """The contents list under the banner: a link to each section, the findings counted."""
    counts = {}
    for finding in findings or []:
        counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
    said = ", ".join(f"{n} {severity}{'s' if n != 1 else ''}" for severity, n in counts.items()
                     if severity != "info")
    items = "".join(
        f'<li><a href="#{anchor}">{escape(title)}</a>'
        f'{f" ({said})" if anchor == "findings" and said else ""}</li>'
        for anchor, title in SECTIONS)
    return HTML(f'<nav class="lg-contents" aria-label="Contents"><strong>Contents</strong>'
                f"<ol>{items}</ol></nav>")


def method(analysis: Analysis) -> HTML:
    """"How this is computed": docs/method.md in a few paragraphs, for a reader who has only
    the downloaded report; the numbers are the library's own."""
    budgets = {q: d["budget_ms"] for q, d in analysis.verdict.get("by_quantile", {}).items()}
    budget = " and ".join(f"{b:g} ms at {q}" for q, b in budgets.items()) or "the budget"
    paragraphs = [
        f"<strong>The gap.</strong> Only the backend's time is compared (nginx "
        f"<code>$upstream_response_time</code>, the ALB's <code>target_processing_time</code>), "
        f"so the proxies in front are not part of it. For each environment the p50, p90 and p99 "
        f"are taken over the requests a backend answered; the gap at each quantile is "
        f"{escape(analysis.candidate)} minus {escape(analysis.baseline)}, with a 95% interval "
        f"from {stats.BOOTSTRAP_RESAMPLES} seeded bootstrap resamples. Below "
        f"{FLOOR_REQUESTS} requests in an environment no gap is measured.",
        f"<strong>Ready or blocked.</strong> Each budgeted quantile ({escape(budget)}) is "
        "decided from its interval: <em>over</em> when the whole interval lies above the "
        "budget, <em>within</em> when it lies at or below it, <em>undecided</em> when it "
        f"straddles it (a p99 needs at least {requests_to_bound(0.99)} requests in each "
        "environment to be decided at all). Ready means p50 and p99 are both decided within; "
        "every blocker is named in the banner.",
        "<strong>The causes.</strong> Credential refresh: from the credential documents "
        "(when each credential was issued and expires), the SDK's refresh rule and the "
        "provider, the share of requests that wait for new credentials and what one refresh "
        "costs (timed metadata calls when there are some). DNS: from resolv.conf "
        "(<code>ndots</code>, search list), the host names the service resolves and dig "
        "timings, how many names one uncached lookup queries, what each costs, and how often "
        "the application's DNS cache misses. Evidence beats configuration: where the latency "
        "contradicts a prediction, nothing is attributed to it and a finding says so.",
        f"<strong>What the gap is made of.</strong> {MONTE_CARLO_N:,} requests are simulated: "
        "baseline latencies resampled, plus each cause's extra time in the candidate. "
        "Quantiles do not add, so each cause gets its Shapley share of each quantile's gap "
        "(its average effect over the orders the causes could be added in); what the causes "
        "do not explain of the measured gap is <em>unexplained</em>. It is negative when the "
        "model predicts a little more than was measured: then a cause can account for "
        "slightly more than the whole gap.",
        "<strong>After a fix.</strong> The gap predicted once a cause is fixed is the "
        "measured gap minus that cause's share; after all fixes together it is the measured "
        "gap minus every fixed cause's share (for every cause this is exactly the unexplained "
        "part). These are predictions from the same model, not measurements: run the report "
        "again on evidence collected after the change.",
        "The full method, with its sources (SDK and provider code, glibc's resolver), is "
        "docs/method.md in the latency-gap repository.",
    ]
    if analysis.measured:
        paragraphs.insert(-1, _measured_method(analysis))
    return HTML('<h2 id="method">How this is computed</h2>'
                + "".join(f"<p>{p}</p>" for p in paragraphs))


def _measured_method(analysis: Analysis) -> str:
    """The method's paragraph on packet captures, naming each environment's source."""
    said = "; ".join(f"{escape(env)}: {escape(by_cause['dns'])}"
                     for env, by_cause in sources(analysis).items())
    return ("<strong>Measured from packet captures.</strong> Where an environment has "
            "captures, its per-request DNS and credential time is measured, not modelled: "
            "each inbound request's window holds the DNS queries and metadata calls it waited "
            "for, and each simulated request draws one captured request's DNS and metadata "
            "time together. A query or call that falls in several requests' windows "
            "(concurrent requests) belongs to none: those requests are <em>ambiguous</em>, "
            "left out and counted. A capture is a sample of the logged period: what it saw "
            "stands for every request, so a rare event (a resolver timeout, a refresh every "
            "few minutes) counts only if the capture caught it; time a request waits inside "
            "the process before a call (a lock) is not on the wire and stays unexplained. "
            f"Here: {said}.")


def footer(parameters: dict, files: dict[str, str]) -> HTML:
    """Tool version, generation time, parameters, and the fingerprint of every evidence file."""
    params = ", ".join(f"<code>{escape(str(k))}={escape(str(v))}</code>"
                       for k, v in parameters.items())
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = "".join(f"<tr><td>{escape(name)}</td><td><code>{digest[:16]}</code></td></tr>"
                   for name, digest in files.items())
    return HTML(f'<div class="lg-footer"><small>latency-gap {escape(__version__)} &middot; '
                f'generated {when} &middot; parameters: {params} &middot; evidence '
                f'fingerprint <code>{combine(files)[:16]}</code> (SHA-256 of {len(files)} '
                f'file{"s" if len(files) != 1 else ""})<details><summary>evidence files'
                f'</summary><table class="lg-table" id="tab-evidence-files"><tr><th>file</th>'
                f'<th>SHA-256 (first 16 hex digits)</th></tr>{rows}</table></details>'
                f'</small></div>')
