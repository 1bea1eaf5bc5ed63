"""The report's figures, drawn with matplotlib in seaborn's theme; each environment keeps its
colour.

Each function returns a chart.Chart: the figure, its anchor (fig-<name>), alt text that states
what the figure shows in the result's numbers, and the finding it backs. The figures over time
(per-minute latency, credentials) live in time_plots.py and share the latency window's x range.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from analysis import latency_digest, measured_waterfall, waterfall
from analysis.attribution import CAUSES, Analysis
from analysis.chart import (  # noqa: F401  (the notebook's names for the theme and colours)
    BUDGET_COLOUR,
    CAUSE_COLOURS,
    CAUSE_WORDS,
    GAP_COLOUR,
    Chart,
    env_colours,
    finding_about,
    latency_axis,
    ms,
    new_figure,
    plain_log_axis,
    use_theme,
)
from analysis.decision import UNDECIDED, WITHIN
from analysis.latency_digest import LatencyDigest
from analysis.time_plots import (  # noqa: F401  (the notebook draws them through plots)
    credential_timeline,
    latency_over_time,
    per_minute,
)

# ---------------------------------------------------------------- what the gap is made of

def _gap_sentence(analysis: Analysis, quantile: str) -> str:
    gap = analysis.gap_ms[quantile]
    low, high = gap["ci95"]
    budget = analysis.verdict.get("by_quantile", {}).get(quantile, {}).get("budget_ms")
    within = f"; budget {ms(budget)}" if budget is not None else ""
    whole = round(gap["value"])
    how = "level" if not whole else f"{ms(abs(whole))} {'slower' if whole > 0 else 'faster'}"
    return f"{how} at {quantile} (95% interval {ms(low, True)} to {ms(high, True)}{within})"


def within_noise(analysis: Analysis) -> bool:
    """Every quantile judged against a budget is within it: nothing to magnify."""
    decided = analysis.verdict.get("by_quantile", {})
    return bool(decided) and all(d.get("decision") == WITHIN for d in decided.values())


def attribution_alt(analysis: Analysis) -> str:
    """The attribution chart's finding in one sentence, in the result's numbers."""
    if not analysis.attribution_ms:
        return "No gap measured: too few requests to compare the environments (see the verdict)."
    judged = [q for q in ("p50", "p99") if q in analysis.gap_ms] or list(analysis.gap_ms)
    gaps = " and ".join(_gap_sentence(analysis, q) for q in judged)
    head = f"{analysis.candidate} against {analysis.baseline}: {gaps}"  # "87 ms slower at p50"
    if within_noise(analysis):
        return f"{head}: every 95% interval lies within its budget, no gap to attribute."
    parts = []
    for cause in (*CAUSES, "unexplained"):
        shares = [(q, analysis.attribution_ms[q].get(cause, 0.0)) for q in judged]
        if not any(abs(v) >= 1 for _, v in shares):
            continue
        if cause == "unexplained" and all(v <= 0 for _, v in shares):  # not "-3 ms"
            parts.append("the causes account for " + " and ".join(
                f"{ms(-v)} more than the gap at {q}" for q, v in shares))
        else:
            parts.append(f"{CAUSE_WORDS[cause]} " + " and ".join(
                f"{ms(v)} at {q}" for q, v in shares))
    return f"{head}. Of it: {'; '.join(parts) or 'no cause explains any of it'}."


def _stacked_causes(ax, analysis: Analysis, quantiles: list[str]) -> list[float]:
    """One bar per quantile, each cause stacked from 0 (a negative share to the left); the
    extent drawn."""
    right, left = np.zeros(len(quantiles)), np.zeros(len(quantiles))
    for cause in (*CAUSES, "unexplained"):
        values = np.array([analysis.attribution_ms[q].get(cause, 0.0) for q in quantiles])
        ax.barh(range(len(quantiles)), values, left=np.where(values >= 0, right, left),
                height=0.5, color=CAUSE_COLOURS[cause], label=CAUSE_WORDS[cause])
        right, left = right + np.maximum(values, 0), left + np.minimum(values, 0)
    return [*right, *left, 0.0]


def _gap_intervals(ax, analysis: Analysis, quantiles: list[str]) -> list[float]:
    """The observed gap and its 95% interval under each bar; the extent drawn."""
    gaps = [q for q in quantiles if q in analysis.gap_ms]
    if not gaps:
        return []
    at = np.array([quantiles.index(q) for q in gaps]) + 0.33
    value = np.array([analysis.gap_ms[q]["value"] for q in gaps])
    low, high = (np.array([analysis.gap_ms[q]["ci95"][i] for q in gaps]) for i in (0, 1))
    ax.errorbar(value, at, xerr=[value - low, high - value], fmt="D", markersize=4,
                color=GAP_COLOUR, capsize=3, linewidth=1.2, label="observed gap, 95% interval")
    return [*low, *high]


def _budget_lines(ax, decided: dict, quantiles: list[str]) -> list[float]:
    """A labelled line at each judged quantile's budget; the budgets."""
    budgets = [(quantiles.index(q), d["budget_ms"]) for q, d in decided.items()
               if q in quantiles and d.get("budget_ms") is not None]
    for i, (row, budget) in enumerate(budgets):
        ax.vlines(budget, row - 0.42, row + 0.5, colors=BUDGET_COLOUR, linewidth=1.6,
                  label="budget" if i == 0 else None)
        ax.annotate(f"budget {ms(budget)}", (budget, row - 0.42), xytext=(3, 0),
                    textcoords="offset points", fontsize="x-small", color=BUDGET_COLOUR,
                    va="bottom")
    return [budget for _, budget in budgets]


def attribution_bars(analysis: Analysis, findings: list[dict] | None = None) -> Chart:
    """Per quantile, the observed gap split into its causes and the unexplained rest, the
    observed gap with its 95% interval, and the budget; the axis reaches past the budget, so
    a gap within noise stays small. A quantile the evidence does not decide is labelled so."""
    fig = new_figure(8, 3.2)
    ax = fig.subplots()
    labels = {"xlabel": f"gap {analysis.candidate} - {analysis.baseline} (ms)", "ylabel": ""}
    if not analysis.attribution_ms:
        ax.set(xticks=[], yticks=[], title="What the gap is made of", **labels)
        ax.text(0.5, 0.5, "no gap measured: too few requests (see the verdict)", ha="center",
                va="center", transform=ax.transAxes)
        return Chart(fig, "attribution", attribution_alt(analysis))
    quantiles = list(analysis.attribution_ms)
    decided = analysis.verdict.get("by_quantile", {})
    extent = _stacked_causes(ax, analysis, quantiles) + \
        _gap_intervals(ax, analysis, quantiles) + _budget_lines(ax, decided, quantiles)
    low, high = min(extent), max(extent)
    pad = 0.08 * (high - low or 1.0)
    ax.set_xlim(low - pad, high + pad)  # the budget is in view: noise cannot fill the axis
    ax.set_yticks(range(len(quantiles)), [
        f"{q} (undecided)" if decided.get(q, {}).get("decision") == UNDECIDED else q
        for q in quantiles])
    ax.set_ylim(len(quantiles) - 0.4, -0.6)
    ax.axvline(0, color="#555555", linewidth=0.8)
    title = "No gap beyond noise: every 95% interval is within its budget" \
        if within_noise(analysis) else "What the gap is made of"
    ax.set(title=title, **labels)
    handles = dict(zip(*reversed(ax.get_legend_handles_labels()), strict=True))
    order = [k for k in [*(CAUSE_WORDS[c] for c in (*CAUSES, "unexplained")),
                         "observed gap, 95% interval", "budget"] if k in handles]
    ax.legend([handles[k] for k in order], order, loc="upper left", bbox_to_anchor=(1.01, 1),
              fontsize="small")
    fig.tight_layout()
    return Chart(fig, "attribution", attribution_alt(analysis),
                 finding_about(findings, "credential-refresh", "dns-"))


# ---------------------------------------------------------------- latency distribution

def latency_ecdf(latency: pd.DataFrame | LatencyDigest, analysis: Analysis,
                 findings: list[dict] | None = None) -> Chart:
    """ECDF of backend latency per environment, log axis; drawn from the digest's points
    (latency_digest.ecdf_points), so a busy service costs what a quiet one does. Where only
    some candidate requests miss the DNS cache, the tail they make is shaded and labelled."""
    points = latency_digest.of(latency).ecdf
    colours = env_colours(analysis.baseline, analysis.candidate)
    fig = new_figure(8, 3.6)
    ax = fig.subplots()
    present = set(points["env"])
    envs = [e for e in (analysis.baseline, analysis.candidate) if e in present]
    for env in envs:
        mine = points[points["env"] == env]
        x = np.concatenate([mine["latency_ms"].to_numpy(float)[:1], mine["latency_ms"]])
        y = np.concatenate([[0.0], mine["share"].to_numpy(float)])
        ax.plot(x, y, drawstyle="steps-post", color=colours[env], label=env)
    ax.set_xscale("log")
    ax.set(xlabel="backend latency (ms, log scale)", ylabel="share of requests",
           title="Latency by environment")
    tail = waterfall.dns_tail(analysis)
    sentence = ecdf_sentence(analysis, envs)
    if tail and analysis.candidate in present:
        miss, extra = tail
        mine = points[points["env"] == analysis.candidate]
        start = float(np.interp(1 - miss, mine["share"], mine["latency_ms"]))
        ax.axhspan(1 - miss, 1.0, color=CAUSE_COLOURS["dns"], alpha=0.12, linewidth=0)
        ax.plot([start], [1 - miss], "o", color=CAUSE_COLOURS["dns"], markersize=5)
        ax.annotate(f"DNS-miss tail from {ms(start)}:\n{miss:.0%} of {analysis.candidate} "
                    f"requests miss the\nDNS cache, +{ms(extra)} each", (start, 1 - miss),
                    xytext=(0.98, 0.3), textcoords="axes fraction", ha="right", va="center",
                    fontsize="small", color=CAUSE_COLOURS["dns"],
                    arrowprops={"arrowstyle": "->", "color": CAUSE_COLOURS["dns"]})
        sentence += f" The DNS-miss tail starts near {ms(start)} (share {1 - miss:.2f}): " \
                    f"{miss:.0%} of {analysis.candidate} requests miss the DNS cache and pay " \
                    f"about {ms(extra)} more."
    ax.legend(title="env", loc="upper left")
    plain_log_axis(ax.xaxis)
    fig.tight_layout()
    return Chart(fig, "ecdf", sentence,
                 finding_about(findings, "dns-") if tail else None)


def ecdf_sentence(analysis: Analysis, envs: list[str]) -> str:
    """Median and p99 per environment, as the ECDF shows them."""
    known = [e for e in envs if analysis.latency_ms.get(e, {}).get("p50") is not None]
    if not known:
        return "No request latency to show."
    return "Median backend latency " + ", ".join(
        f"{e} {ms(analysis.latency_ms[e]['p50'])}" for e in known) + "; p99 " + ", ".join(
        f"{e} {ms(analysis.latency_ms[e]['p99'])}" for e in known) + "."


# ---------------------------------------------------------------- DNS query times

def dig_times(dig: pd.DataFrame, analysis: Analysis,
              findings: list[dict] | None = None) -> Chart:
    """Distribution of dig query times per environment."""
    fig = new_figure(8, 3.0)
    ax = fig.subplots()
    answered = dig.dropna(subset=["query_time_ms"])
    envs = [e for e in (analysis.baseline, analysis.candidate) if e in set(answered["env"])]
    colours = env_colours(analysis.baseline, analysis.candidate)
    jitter = np.random.default_rng(0)  # seeded: the same evidence draws the same figure
    for row, env in enumerate(envs):
        times = answered.loc[answered["env"] == env, "query_time_ms"].to_numpy(float)
        # markers of one line, not a scatter collection: a third of the SVG bytes per point
        ax.plot(times, row + jitter.uniform(-0.25, 0.25, len(times)), "o", color=colours[env],
                alpha=0.5, markersize=5, markeredgewidth=0, label=env)
    ax.set_yticks(range(len(envs)), envs)
    ax.set_ylim(len(envs) - 0.5 if envs else 0.5, -0.5)
    ax.set(xlabel="dig query time (ms)", ylabel="", title="DNS query time per environment")
    fig.tight_layout()
    times = {e: answered.loc[answered["env"] == e, "query_time_ms"] for e in envs}
    alt = "dig query times: " + "; ".join(
        f"{e} median {ms(t.median())} over {len(t)} queries ({ms(t.min())} to {ms(t.max())})"
        for e, t in times.items()) + "." if envs else "No dig query time to show."
    return Chart(fig, "dig", alt, finding_about(findings, "dns-"))


# ---------------------------------------------------------------- load

def latency_vs_load(latency: pd.DataFrame | LatencyDigest, analysis: Analysis,
                    findings: list[dict] | None = None) -> Chart:
    """Per-minute median latency against request rate: does the gap grow with load?"""
    latency = latency_digest.of(latency)
    envs = [e for e in (analysis.baseline, analysis.candidate) if e in set(latency.envs)]
    minutes = pd.concat([per_minute(latency, env).assign(env=env) for env in envs],
                        ignore_index=True) if envs else pd.DataFrame(
        columns=["rate", "p50", "env"])
    fig = new_figure(8, 3.2)
    ax = fig.subplots()
    colours = env_colours(analysis.baseline, analysis.candidate)
    for env in envs:
        mine = minutes[minutes["env"] == env]
        ax.plot(mine["rate"], mine["p50"], "o", color=colours[env], alpha=0.6, markersize=5,
                markeredgewidth=0, label=env)
    ax.set(xlabel="request rate (requests/s, per minute)", title="Latency against request rate")
    latency_axis(ax, minutes["p50"], "median latency")
    if envs:
        ax.legend(title="env", loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    fig.tight_layout()
    alt = "Per-minute median latency against request rate: " + "; ".join(
        f"{e} {ms(m['p50'].min())} to {ms(m['p50'].max())} at {m['rate'].min():.2g} to "
        f"{m['rate'].max():.2g} requests/s" for e, m in minutes.groupby("env", sort=False)) + "."
    check = next((f for f in findings or [] if f.get("id") == "check-load"), None)
    if check:
        alt += f" {check['evidence'][:1].upper()}{check['evidence'][1:]}"
    return Chart(fig, "load", alt if envs else "No request latency to show.",
                 check["id"] if check else None)


# ---------------------------------------------------------------- one request

KIND_COLOURS = {"app": "#8c96a0", "metadata": CAUSE_COLOURS["credential_refresh"],
                "dns": CAUSE_COLOURS["dns"]}
KIND_WORDS, KIND_WORD = waterfall.KIND_WORDS, waterfall.KIND_WORD
#: a modelled segment is hatched; a measured one is solid
MODELLED_HATCH = "////"


def waterfall_alt(table: pd.DataFrame) -> str:
    """Each request's total and what it is made of, with measured/modelled said."""
    if table.empty:
        return "No request to break down: no latency measured."
    sentences = []
    for request, rows in table.groupby("request", sort=False):
        parts = []
        for kind, mine in rows.groupby("kind", sort=False):
            sources = " and ".join(sorted(waterfall.SOURCE_WORDS[s]
                                          for s in set(mine["source"])))
            words = waterfall.kind_words(kind, len(mine), set(mine["source"]))
            count = f"{len(mine)} " if kind != "app" else ""
            parts.append(f"{count}{words} {ms(mine['ms'].sum())} ({sources})")
        sentences.append(f"{request}, {ms(rows['ms'].sum())}: {', '.join(parts)}")
    return "; ".join(sentences) + ". " + ". ".join(waterfall.named_segments(table)) + "."


def request_waterfall(analysis: Analysis, metadata: pd.DataFrame | None = None,
                      table: pd.DataFrame | None = None,
                      findings: list[dict] | None = None, captures=None) -> Chart:
    """One request per row (waterfall.segments, or `table` in its shape), its segments one
    after another: app, each metadata call, each DNS name tried; modelled segments hatched,
    a segment wide enough to read labelled with its ms, and the observed median marked ▼.
    `captures`: the evidence, whose packet captures put measured requests (source pcap) in
    place of the model's for their environments (measured_waterfall.report_table)."""
    if table is None:
        table = measured_waterfall.report_table(analysis, captures) if captures is not None \
            else waterfall.segments(analysis, metadata)
    table = waterfall.validate(table)
    requests = list(dict.fromkeys(table["request"]))
    longest = float(waterfall.totals(table).max()) if len(table) else 1.0
    # the bars cannot name a 1 ms DNS query: a note under the axes names every segment
    note = "\n".join(textwrap.fill(line, 120, subsequent_indent="    ")
                     for line in waterfall.named_segments(table))
    lines = note.count("\n") + 1 if note else 0
    fig = new_figure(8, 1.3 + 0.6 * max(len(requests), 1) + 0.15 * lines)
    ax = fig.subplots()
    seen = set()
    for row, request in enumerate(requests):
        start = 0.0
        for _, seg in table[table["request"] == request].iterrows():
            label = KIND_WORDS[seg["kind"]] if seg["kind"] not in seen else None
            seen.add(seg["kind"])
            ax.barh(row, seg["ms"], left=start, height=0.6, color=KIND_COLOURS[seg["kind"]],
                    edgecolor="white", linewidth=0.8, label=label,
                    hatch=MODELLED_HATCH if seg["source"] == waterfall.MODELLED else None)
            if seg["ms"] >= 0.07 * longest:
                ax.text(start + seg["ms"] / 2, row, f"{seg['ms']:.0f}", ha="center",
                        va="center", fontsize="x-small", color="white", fontweight="bold",
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": KIND_COLOURS[
                            seg["kind"]], "edgecolor": "none"})
            start += seg["ms"]
        ax.annotate(ms(start), (start, row), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize="small")
    marked = False
    for row, request in enumerate(requests):
        env = table.loc[table["request"] == request, "env"].iloc[0]
        median = analysis.latency_ms.get(env, {}).get("p50")
        typical = (waterfall.typical(env), measured_waterfall.request_name(env, "typical"))
        if request in typical and median is not None:
            ax.plot([median], [row - 0.42], "v", color=GAP_COLOUR, markersize=6,
                    label=None if marked else "observed median")
            marked = True
            if request != typical[0]:  # a captured request: its log's median may lie beyond
                longest = max(longest, float(median))
    ax.set_yticks(range(len(requests)), [textwrap.fill(r.replace(": ", "\n", 1), 22,
                                                       replace_whitespace=False)
                                         for r in requests])
    ax.set_ylim(len(requests) - 0.5, -0.7)
    ax.set_xlim(0, longest * 1.15)
    ax.set(xlabel="time into the request (ms)", title="What one request is made of")
    handles, labels = ax.get_legend_handles_labels()
    if (table["source"] == waterfall.MODELLED).any():
        handles.append(Patch(facecolor="white", edgecolor="#555555", hatch=MODELLED_HATCH))
        labels.append("modelled (hatched)")
    if (table["source"] == waterfall.PCAP).any():
        handles.append(Patch(facecolor="white", edgecolor="#555555"))
        labels.append("measured (pcap): one\ncaptured request")
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    if note:
        fig.text(0.01, 0.01, note, fontsize="x-small", va="bottom", ha="left", color="#444444")
    fig.tight_layout(rect=(0, 0.15 * lines / fig.get_figheight(), 1, 1))
    return Chart(fig, "waterfall", waterfall_alt(table),
                 finding_about(findings, "credential-refresh", "dns-"))
