"""The figures over time: per-minute latency with the predicted credential refreshes, and the
credentials each environment served. Both are drawn on the latency window's time axis (the
first to the last minute of the access logs) with the same margins, so one reads above the
other; the time axis says `10:00`, with the date once in its label."""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd

from analysis import durations, latency_digest
from analysis.attribution import Analysis
from analysis.chart import (
    CAUSE_COLOURS,
    Chart,
    env_colours,
    finding_about,
    latency_axis,
    ms,
    new_figure,
)
from analysis.latency_digest import LatencyDigest
from analysis.words import plural

#: more predicted refresh moments than this in one panel are counted, not drawn
MAX_MARKS = 60
REFRESH_LABEL = "predicted credential refresh"
#: the legend's shorter words for it
REFRESH_LEGEND = "credential refresh\n(predicted)"
REFRESH_COLOUR = CAUSE_COLOURS["credential_refresh"]
#: the same left and right margins in both time figures: their time axes line up
MARGINS = {"left": 0.1, "right": 0.74}
_PANEL_HEIGHT = 2.0


def per_minute(latency: LatencyDigest, env: str) -> pd.DataFrame:
    """Requests per second, median and p99 latency for each minute of one environment."""
    frame = latency.minutes[latency.minutes["env"] == env]
    return pd.DataFrame({"minute": frame["minute"], "rate": frame["count"] / 60,
                         "p50": frame["median"], "p99": frame["p99"]})


def time_window(latency: LatencyDigest) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The latency window: from the first minute of any access log to the end of the last."""
    minutes = pd.to_datetime(latency.minutes["minute"], utc=True)
    if minutes.empty:
        return None
    return minutes.min(), minutes.max() + pd.Timedelta(minutes=1)


def time_axis(ax, window: tuple[pd.Timestamp, pd.Timestamp]) -> None:
    """x from the window's start to its end, ticks as `10:00` (the date in the label) when it
    lies within one day, `24 Nov 10:00` when it does not, `10:00:30` when it is minutes long."""
    start, end = window
    ax.set_xlim(start, end)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=8, tz="UTC"))
    one_day = start.date() == (end - pd.Timedelta(microseconds=1)).date()
    short = end - start < pd.Timedelta(minutes=10)
    form = "%H:%M:%S" if short else ("%H:%M" if one_day else "%d %b %H:%M")
    ax.xaxis.set_major_formatter(mdates.DateFormatter(form, tz="UTC"))
    ax.set_xlabel(f"time (UTC, {start:%Y-%m-%d})" if one_day else "time (UTC)")
    ax.tick_params(axis="x", labelbottom=True)


def _panels(count: int, extra_height: float = 0.9, sharey: bool = False):
    fig = new_figure(8, extra_height + _PANEL_HEIGHT * max(count, 1))
    axes = fig.subplots(max(count, 1), 1, sharex=True, sharey=sharey, squeeze=False)[:, 0]
    return fig, axes


def _lay_out(fig) -> None:
    fig.tight_layout()
    fig.subplots_adjust(**MARGINS)


def _refresh_marks(ax, env: str, marks: pd.DataFrame | None,
                   window: tuple | None) -> tuple[str, str]:
    """Mark the predicted refreshes inside the window (a ▼ at the top and a thin line in the
    credential colour: not a gridline, not dashed, which means p99). (title, sentence)."""
    if marks is not None and not marks.empty and bool(marks["every_request"].all()):
        if window is not None:  # the whole window, in the colour of a refresh
            ax.axvspan(window[0], window[1], color=REFRESH_COLOUR, alpha=0.08, linewidth=0,
                       label="every request\nrefreshes credentials")
        return (f"{env}: every request refreshes credentials (all served inside the SDK's "
                "window)", f"{env}: every request refreshes credentials.")
    title = f"{env}: per-minute latency"
    if marks is None or marks.empty or window is None:
        return title, ""
    due = marks.loc[~marks["every_request"], "refresh_at"]
    due = due[(due >= window[0]) & (due <= window[1])].drop_duplicates()
    if len(due) > MAX_MARKS:  # one per credential the collector saw: too many to draw
        return (f"{title}; {len(due)} predicted refreshes (not drawn)",
                f"{env}: {len(due)} predicted credential refreshes.")
    if due.empty:
        return title, f"{env}: no credential refresh predicted in the window."
    at = list(due)
    ax.vlines(at, 0, 1, transform=ax.get_xaxis_transform(), colors=REFRESH_COLOUR,
              linewidth=1.0, alpha=0.5)
    ax.plot(at, [1.0] * len(at), transform=ax.get_xaxis_transform(), marker="v",
            linestyle="none", color=REFRESH_COLOUR, markersize=8, clip_on=False,
            label=REFRESH_LEGEND)
    times = ", ".join(f"{t:%H:%M}" for t in at[:6]) + (" …" if len(at) > 6 else "")
    plural = "es" if len(at) > 1 else ""
    return (f"{title}; ▼ {len(at)} {REFRESH_LABEL}{plural}",
            f"{env}: {len(at)} {REFRESH_LABEL}{plural} ({times}).")


def latency_over_time(latency: pd.DataFrame | LatencyDigest, analysis: Analysis,
                      moments: dict[str, pd.DataFrame],
                      findings: list[dict] | None = None) -> Chart:
    """Per-minute p50 (solid) and p99 (dashed) per environment, with the predicted credential
    refreshes marked ▼.

    `moments` maps an environment to models.credentials.refresh_moments(): a mark where the
    SDK's threshold is reached; a note when every served credential is already inside it.
    """
    latency = latency_digest.of(latency)
    envs = [e for e in (analysis.baseline, analysis.candidate) if e in set(latency.envs)]
    colours = env_colours(analysis.baseline, analysis.candidate)
    window = time_window(latency)
    fig, axes = _panels(len(envs), sharey=True)
    sentences = []
    for ax, env in zip(axes, envs, strict=False):
        mine = per_minute(latency, env)
        ax.plot(mine["minute"], mine["p50"], color=colours[env], label="p50 (median)")
        ax.plot(mine["minute"], mine["p99"], color=colours[env], linestyle="--", label="p99")
        title, marked = _refresh_marks(ax, env, moments.get(env), window)
        ax.set_title(title, pad=10)  # room for the ▼ marks above the axes
        latency_axis(ax, [*latency.minutes["median"], *latency.minutes["p99"]])
        time_axis(ax, window)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
        sentences.append(f"{env} median {ms(mine['p50'].min())} to {ms(mine['p50'].max())}, "
                         f"p99 {ms(mine['p99'].min())} to {ms(mine['p99'].max())}")
        sentences.append(marked)
    if not envs:
        axes[0].set(xlabel="time (UTC)", title="No request latency to show")
    _lay_out(fig)
    head = "Per minute: " + "; ".join(s for s in sentences[::2]) + ". " if envs else \
        "No request latency to show. "
    return Chart(fig, "over-time", (head + " ".join(s for s in sentences[1::2] if s)).strip(),
                 finding_about(findings, "credential-refresh"))


def _credential_panel(ax, env: str, served: pd.DataFrame, window: tuple | None, colour,
                      limit: int) -> str:
    """One environment's credentials as bars on the time axis; the sentence saying them."""
    creds = served if window is None else served[(served["expiration"] >= window[0])
                                                 & (served["last_updated"] <= window[1])]
    creds = creds.tail(limit).reset_index(drop=True)
    issued = mdates.date2num(creds["last_updated"])
    expires = mdates.date2num(creds["expiration"])
    inside = np.maximum(mdates.date2num(creds["window_from"]), issued)
    ax.barh(creds.index, expires - issued, left=issued, height=0.8, color=colour, alpha=0.35,
            label="valid")
    ax.barh(creds.index, expires - inside, left=inside, height=0.8, color=colour,
            label="inside the SDK's\nrefresh window")
    time_axis(ax, window or (served["last_updated"].min(), served["expiration"].max()))
    if window is not None and len(creds) <= 3:  # say when a bar runs on past the window
        for row, expiry in enumerate(creds["expiration"]):
            if expiry > window[1]:
                ax.annotate(f"expires {expiry:%H:%M} →", (1.0, row), xytext=(-4, 0),
                            xycoords=("axes fraction", "data"), textcoords="offset points",
                            ha="right", va="center", fontsize="x-small")
    lifetime = durations.span((served["expiration"] - served["last_updated"]).median())
    shown = f" ({len(creds)} in the latency window)" if window is not None and \
        len(creds) != len(served) else (f" (latest {limit})" if len(served) > limit else "")
    ax.set(ylabel="credential", yticks=[],
           title=f"{env}: {plural(len(served), 'credential')}{shown}, median lifetime "
                 f"{lifetime}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    every = int(served["every_request"].sum())
    inside_words = (f"{'all' if every == len(served) else every} of them inside the SDK's "
                    "refresh window when issued, so every request refreshes while they are "
                    "served") if every else "none inside the SDK's refresh window when issued"
    return f"{env} served {plural(len(served), 'credential')} with a median lifetime of " \
           f"{lifetime}; {inside_words}"


def credential_timeline(moments: dict[str, pd.DataFrame], analysis: Analysis,
                        threshold_s: float | None, sdk: str | None, limit: int = 120,
                        latency: pd.DataFrame | LatencyDigest | None = None,
                        findings: list[dict] | None = None) -> Chart:
    """Each credential an environment served, from issue to expiry, with the part inside the
    SDK's refresh window (less than the threshold left) darkened: a credential that is dark
    from its start makes every request refresh while it is served. With `latency`, on the
    latency window's time axis (latency_over_time's), showing the credentials served in it."""
    envs = [e for e in (analysis.baseline, analysis.candidate)
            if e in moments and not moments[e].empty]
    colours = env_colours(analysis.baseline, analysis.candidate)
    window = time_window(latency_digest.of(latency)) if latency is not None else None
    fig, axes = _panels(len(envs), extra_height=1.2)
    sentences = [_credential_panel(ax, env, moments[env], window, colours[env], limit)
                 for ax, env in zip(axes, envs, strict=False)]
    if not envs:
        axes[0].set(xlabel="time (UTC)", yticks=[], title="No credential to show")
    threshold = f"{durations.minutes(threshold_s)} before expiry" if threshold_s else ""
    if threshold:
        fig.suptitle(f"Credential lifetimes against {sdk}'s refresh threshold ({threshold})",
                     fontsize="medium")
    _lay_out(fig)
    alt = "; ".join(sentences) + (f" ({sdk} refreshes {threshold})." if threshold else ".") \
        if envs else "No credential document to show."
    return Chart(fig, "credentials", alt, finding_about(findings, "credential-refresh"))
