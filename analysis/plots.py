"""seaborn figures for the report: one theme, and each environment keeps its colour."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from analysis.attribution import CAUSES, Analysis

CAUSE_COLOURS = {"credential_refresh": "#d95f02", "dns": "#7570b3", "unexplained": "#bdbdbd"}
_ENV_PALETTE = sns.color_palette("colorblind", 2)


def use_theme() -> None:
    """The one theme every figure in a report uses."""
    sns.set_theme(style="whitegrid", context="notebook", rc={"figure.dpi": 96})


def env_colours(baseline: str, candidate: str) -> dict[str, tuple]:
    """Baseline and candidate keep the same colours in every figure."""
    return {baseline: _ENV_PALETTE[0], candidate: _ENV_PALETTE[1]}


def latency_ecdf(latency: pd.DataFrame, analysis: Analysis) -> plt.Figure:
    """ECDF of backend latency per environment, log axis."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    sns.ecdfplot(data=latency.dropna(subset=["latency_ms"]), x="latency_ms", hue="env",
                 hue_order=[analysis.baseline, analysis.candidate],
                 palette=env_colours(analysis.baseline, analysis.candidate), log_scale=True,
                 ax=ax)
    ax.set(xlabel="backend latency (ms, log scale)", ylabel="share of requests",
           title="Latency by environment")
    return fig


def attribution_bars(analysis: Analysis) -> plt.Figure:
    """Per quantile, the observed gap split into its causes and the unexplained rest."""
    rows = [{"quantile": q, "part": part, "ms": ms}
            for q, parts in analysis.attribution_ms.items() for part, ms in parts.items()]
    frame = pd.DataFrame(rows).pivot(index="quantile", columns="part", values="ms")
    frame = frame[[*CAUSES, "unexplained"]]
    fig, ax = plt.subplots(figsize=(8, 2.8))
    frame.plot.barh(stacked=True, ax=ax, color=[CAUSE_COLOURS[c] for c in frame.columns])
    ax.invert_yaxis()
    ax.set(xlabel=f"gap {analysis.candidate} - {analysis.baseline} (ms)", ylabel="",
           title="What the gap is made of")
    ax.legend(loc="lower right", fontsize="small")
    return fig


def dig_times(dig: pd.DataFrame, analysis: Analysis) -> plt.Figure:
    """Distribution of dig query times per environment."""
    fig, ax = plt.subplots(figsize=(8, 3.0))
    answered = dig.dropna(subset=["query_time_ms"])
    envs = [e for e in (analysis.baseline, analysis.candidate) if e in set(answered["env"])]
    if envs:
        sns.stripplot(data=answered, x="query_time_ms", y="env", hue="env", order=envs,
                      hue_order=envs, palette=env_colours(analysis.baseline, analysis.candidate),
                      alpha=0.5, jitter=0.25, legend=False, ax=ax)
    ax.set(xlabel="dig query time (ms)", ylabel="", title="DNS query time per environment")
    return fig


def credential_lifetimes(credentials: pd.DataFrame, analysis: Analysis,
                         threshold_s: float | None) -> plt.Figure:
    """Observed credential lifetimes against the SDK's refresh threshold."""
    fig, ax = plt.subplots(figsize=(8, 2.8))
    ok = credentials[credentials["code"] == "Success"]
    envs = [e for e in (analysis.baseline, analysis.candidate) if e in set(ok["env"])]
    if envs:
        sns.stripplot(data=ok.assign(lifetime_min=ok["lifetime_s"] / 60), x="lifetime_min",
                      y="env", hue="env", order=envs, hue_order=envs, legend=False,
                      palette=env_colours(analysis.baseline, analysis.candidate), ax=ax)
    if threshold_s:
        ax.axvline(threshold_s / 60, color="black", linestyle="--", linewidth=1)
        ax.annotate("SDK refreshes below this", (threshold_s / 60, 0), xytext=(4, 4),
                    textcoords="offset points", fontsize="small")
    ax.set(xlabel="credential lifetime (min)", ylabel="", xscale="log",
           title="Credential lifetime against the SDK's refresh threshold")
    return fig
