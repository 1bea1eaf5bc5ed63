"""seaborn figures for the report: one theme, and each environment keeps its colour."""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import numpy as np
import pandas as pd
import seaborn as sns

from analysis import durations, latency_digest
from analysis.attribution import CAUSES, Analysis
from analysis.decision import UNDECIDED
from analysis.latency_digest import LatencyDigest

CAUSE_COLOURS = {"credential_refresh": "#d95f02", "dns": "#7570b3", "unexplained": "#bdbdbd"}
_ENV_PALETTE = sns.color_palette("colorblind", 2)
#: more predicted refresh moments than this in one panel are counted, not drawn
MAX_MARKS = 60


def use_theme() -> None:
    """The one theme every figure in a report uses."""
    sns.set_theme(style="whitegrid", context="notebook", rc={"figure.dpi": 96})


def plain_log_axis(axis) -> None:
    """Label a log axis 20, 50, 100 rather than 2x10^1: latency readers think in ms."""
    axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(ticker.NullFormatter())


def env_colours(baseline: str, candidate: str) -> dict[str, tuple]:
    """Baseline and candidate keep the same colours in every figure."""
    return {baseline: _ENV_PALETTE[0], candidate: _ENV_PALETTE[1]}


def latency_ecdf(latency: pd.DataFrame | LatencyDigest, analysis: Analysis) -> plt.Figure:
    """ECDF of backend latency per environment, log axis; drawn from the digest's points
    (latency_digest.ecdf_points), so a busy service costs what a quiet one does."""
    points = latency_digest.of(latency).ecdf
    colours = env_colours(analysis.baseline, analysis.candidate)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    present = set(points["env"])
    for env in [e for e in (analysis.baseline, analysis.candidate) if e in present]:
        mine = points[points["env"] == env]
        x = np.concatenate([mine["latency_ms"].to_numpy(float)[:1], mine["latency_ms"]])
        y = np.concatenate([[0.0], mine["share"].to_numpy(float)])
        ax.plot(x, y, drawstyle="steps-post", color=colours[env], label=env)
    ax.set_xscale("log")
    ax.set(xlabel="backend latency (ms, log scale)", ylabel="share of requests",
           title="Latency by environment")
    ax.legend(title="env")
    plain_log_axis(ax.xaxis)
    return fig


def attribution_bars(analysis: Analysis) -> plt.Figure:
    """Per quantile, the observed gap split into its causes and the unexplained rest; a
    quantile the evidence does not decide against its budget is labelled so."""
    fig, ax = plt.subplots(figsize=(8, 2.8))
    labels = {"xlabel": f"gap {analysis.candidate} - {analysis.baseline} (ms)", "ylabel": "",
              "title": "What the gap is made of"}
    if not analysis.attribution_ms:
        ax.set(xticks=[], yticks=[], **labels)
        ax.text(0.5, 0.5, "no gap measured: too few requests (see the verdict)", ha="center",
                va="center", transform=ax.transAxes)
        return fig
    frame = pd.DataFrame.from_dict(analysis.attribution_ms, orient="index")
    frame = frame[[*CAUSES, "unexplained"]]
    decided = analysis.verdict.get("by_quantile", {})
    frame.index = [f"{q} (undecided)" if decided.get(q, {}).get("decision") == UNDECIDED
                   else q for q in frame.index]
    frame.plot.barh(stacked=True, ax=ax, color=[CAUSE_COLOURS[c] for c in frame.columns])
    ax.invert_yaxis()
    ax.set(**labels)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    fig.tight_layout()
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


def _per_minute(latency: LatencyDigest, env: str) -> pd.DataFrame:
    """Requests per second, median and p99 latency for each minute of one environment."""
    frame = latency.minutes[latency.minutes["env"] == env]
    return pd.DataFrame({"minute": frame["minute"], "rate": frame["count"] / 60,
                         "p50": frame["median"], "p99": frame["p99"]})


def _envs(latency: LatencyDigest, analysis: Analysis) -> list[str]:
    present = set(latency.envs)
    return [e for e in (analysis.baseline, analysis.candidate) if e in present]


def latency_over_time(latency: pd.DataFrame | LatencyDigest, analysis: Analysis,
                      moments: dict[str, pd.DataFrame]) -> plt.Figure:
    """Per-minute p50 and p99 per environment, with the predicted credential refreshes marked.

    `moments` maps an environment to models.credentials.refresh_moments(): a dashed line where
    the SDK's threshold is reached; a note when every served credential is already inside it.
    """
    latency = latency_digest.of(latency)
    envs = _envs(latency, analysis)
    colours = env_colours(analysis.baseline, analysis.candidate)
    fig, axes = plt.subplots(max(len(envs), 1), 1, figsize=(8, 2.4 * max(len(envs), 1)),
                             sharey=True, squeeze=False)
    for ax, env in zip(axes[:, 0], envs, strict=False):
        minutes = _per_minute(latency, env).melt(id_vars="minute", value_vars=["p50", "p99"],
                                                 var_name="quantile", value_name="ms")
        sns.lineplot(data=minutes, x="minute", y="ms", style="quantile", color=colours[env],
                     ax=ax)
        first, last = minutes["minute"].min(), minutes["minute"].max()
        marks = moments.get(env)
        every = marks is not None and not marks.empty and bool(marks["every_request"].all())
        title = f"{env}: per-minute latency; dashed: predicted credential refresh"
        if marks is not None and not every:
            due = marks.loc[~marks["every_request"], "refresh_at"]
            due = due[(due >= first) & (due <= last)].drop_duplicates()
            if len(due) > MAX_MARKS:  # one per credential the collector saw: too many to draw
                title = f"{env}: per-minute latency; {len(due)} predicted refreshes (not drawn)"
            for when in due if len(due) <= MAX_MARKS else []:
                ax.axvline(when, color="black", linestyle="--", linewidth=0.8, alpha=0.6)
        if every:
            title = f"{env}: every request refreshes credentials (all served inside the " \
                    "SDK's window)"
        ax.set(yscale="log", xlabel="time (UTC, per minute)", ylabel="latency (ms, log)",
               title=title)
        plain_log_axis(ax.yaxis)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    fig.tight_layout()
    return fig


def latency_vs_load(latency: pd.DataFrame | LatencyDigest, analysis: Analysis) -> plt.Figure:
    """Per-minute median latency against request rate: does the gap grow with load?"""
    latency = latency_digest.of(latency)
    envs = _envs(latency, analysis)
    minutes = pd.concat([_per_minute(latency, env).assign(env=env) for env in envs],
                        ignore_index=True) if envs else pd.DataFrame(
        columns=["rate", "p50", "env"])
    fig, ax = plt.subplots(figsize=(8, 3.2))
    sns.scatterplot(data=minutes, x="rate", y="p50", hue="env", hue_order=envs,
                    palette=env_colours(analysis.baseline, analysis.candidate), alpha=0.6,
                    ax=ax)
    ax.set(yscale="log", xlabel="request rate (requests/s, per minute)",
           ylabel="median latency (ms, log)", title="Latency against request rate")
    plain_log_axis(ax.yaxis)
    ax.legend(title="env", loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    fig.tight_layout()
    return fig


def credential_timeline(moments: dict[str, pd.DataFrame], analysis: Analysis,
                        threshold_s: float | None, sdk: str | None,
                        limit: int = 120) -> plt.Figure:
    """Each credential an environment served, from issue to expiry, with the part inside the
    SDK's refresh window (less than the threshold left) darkened: a credential that is dark
    from its start makes every request refresh while it is served."""
    envs = [e for e in (analysis.baseline, analysis.candidate)
            if e in moments and not moments[e].empty]
    colours = env_colours(analysis.baseline, analysis.candidate)
    fig, axes = plt.subplots(max(len(envs), 1), 1, figsize=(8, 2.3 * max(len(envs), 1)),
                             squeeze=False)
    for ax, env in zip(axes[:, 0], envs, strict=False):
        creds = moments[env].tail(limit).reset_index(drop=True)
        issued = mdates.date2num(creds["last_updated"])
        expires = mdates.date2num(creds["expiration"])
        window = np.maximum(mdates.date2num(creds["window_from"]), issued)
        ax.barh(creds.index, expires - issued, left=issued, height=0.8, color=colours[env],
                alpha=0.35, label="valid")
        ax.barh(creds.index, expires - window, left=window, height=0.8, color=colours[env],
                label="inside the SDK's\nrefresh window")
        ax.xaxis_date()
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        shown = f" (latest {limit} of {len(moments[env])})" if len(moments[env]) > limit else ""
        lifetime = (moments[env]["expiration"] - moments[env]["last_updated"]).median()
        ax.set(xlabel="time (UTC)", ylabel="credential", yticks=[],
               title=f"{env}: {len(moments[env])} credentials{shown}, median lifetime "
                     f"{durations.span(lifetime)}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    if threshold_s:
        fig.suptitle(f"Credential lifetimes against {sdk}'s refresh threshold "
                     f"({threshold_s / 60:g} min before expiry)", fontsize="medium")
    fig.tight_layout()
    return fig
