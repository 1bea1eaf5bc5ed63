"""A report figure (the matplotlib figure, its anchor, the sentence it shows and the finding it
backs, displayed as SVG) and the style every figure shares.

SVG rather than PNG: it stays sharp in print and on high-DPI screens, and with its text kept
as text (svg.fonttype none) it weighs less than a 1x PNG of the same chart. Displayed through
IPython's `_repr_mimebundle_` with output metadata ({"alt", "id", "finding"}), so the report
template (analysis/templates/latency-gap/index.html.j2, block data_svg) writes the alt text and
the anchor that were computed from the result, and a notebook opened in Jupyter shows the same.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import matplotlib
import matplotlib.ticker as ticker
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

CAUSE_COLOURS = {"credential_refresh": "#d95f02", "dns": "#7570b3", "unexplained": "#bdbdbd"}
CAUSE_WORDS = {"credential_refresh": "credential refresh", "dns": "DNS",
               "unexplained": "unexplained"}
#: the colour of a budget line and of the observed gap's 95% interval
BUDGET_COLOUR, GAP_COLOUR = "#b2182b", "#222222"
_ENV_PALETTE = sns.color_palette("colorblind", 2)


def use_theme() -> None:
    """The one theme every figure in a report uses."""
    sns.set_theme(style="whitegrid", context="notebook", rc={"figure.dpi": 96})


def plain_log_axis(axis) -> None:
    """Label a log axis 20, 50, 100 rather than 2x10^1: latency readers think in ms."""
    axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(ticker.NullFormatter())


#: latencies spread wider than this (highest / lowest) are drawn on a log axis, else linear:
#: a log axis over 25 to 60 ms has no 1-2-5 tick to label and says less than a linear one
LOG_SPREAD = 5.0


def latency_axis(ax, values, what: str = "latency") -> None:
    """The y axis for latencies: log (labelled 20, 50, 100) when they spread wide, else linear;
    the label says which."""
    values = [v for v in values if v == v and v > 0]  # v == v: not NaN
    if values and max(values) / min(values) > LOG_SPREAD:
        ax.set(yscale="log", ylabel=f"{what} (ms, log)")
        plain_log_axis(ax.yaxis)
    else:
        ax.set(yscale="linear", ylabel=f"{what} (ms)")
        ax.set_ylim(bottom=0)


def env_colours(baseline: str, candidate: str) -> dict[str, tuple]:
    """Baseline and candidate keep the same colours in every figure."""
    return {baseline: _ENV_PALETTE[0], candidate: _ENV_PALETTE[1]}


def ms(value: float, signed: bool = False) -> str:
    """A latency for a sentence: `87 ms`, signed `+87 ms`; never `-0 ms`."""
    whole = round(float(value))
    return f"{whole:+d} ms" if signed and whole else f"{whole:d} ms"


def finding_about(findings: list[dict] | None, *prefixes: str) -> str | None:
    """The id of the first finding (blockers first, as the result orders them) whose id starts
    with one of `prefixes`: the finding a figure backs and links back to."""
    for found in findings or []:
        if str(found.get("id", "")).startswith(prefixes):
            return found["id"]
    return None


SVG = "image/svg+xml"
#: fixed, so the same result draws the same bytes (matplotlib salts its clip-path ids)
_SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "latency-gap"}
#: coordinates to a tenth of a point (a tenth of a pixel at 2x): a fifth of the bytes go
_GEOMETRY = re.compile(r'(\b(?:d|x|y|x1|x2|y1|y2|width|height|transform|points)=")([^"]*)"')
_DECIMALS = re.compile(r"(\d\.\d)\d+")
#: a line's markers: one <use> per point, each repeating the same style
_MARKERS = re.compile(r'<g clip-path="([^"]*)">\n((?:<use [^>]*/>\n)+)</g>')
_USE = re.compile(r'<use ([^>]*?) style="([^"]*)"/>')
_INDENT = re.compile(r"\n[ \t]+")


def _hoist_style(group: re.Match) -> str:
    """The markers' common style once on their group (inherited the same way), not per point."""
    uses = _USE.findall(group[2])
    styles = {style for _, style in uses}
    if len(uses) != group[2].count("<use") or len(styles) != 1:
        return group[0]
    points = "".join(f"<use {where}/>\n" for where, _ in uses)
    return f'<g clip-path="{group[1]}" style="{styles.pop()}">\n{points}</g>'



def new_figure(width: float, height: float) -> Figure:
    """A figure outside pyplot: nothing is shown or kept open behind the Chart's back."""
    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure


@dataclass
class Chart:
    """One figure of the report. `name` gives its anchor (fig-<name>), `alt` states what it
    shows in numbers, `finding` is the id of the finding it backs (None: the findings table)."""

    figure: Figure
    name: str
    alt: str
    finding: str | None = None

    @property
    def axes(self) -> list:
        return self.figure.axes

    @property
    def anchor(self) -> str:
        return f"fig-{self.name}"

    @property
    def backlink(self) -> str:
        """Where the figure's link back points: its finding, else the findings section."""
        return f"#finding-{self.finding}" if self.finding else "#findings"

    def svg(self) -> str:
        """The figure as an SVG document, text as text, without a creation date."""
        out = io.StringIO()
        with matplotlib.rc_context(_SVG_RC):
            self.figure.savefig(out, format="svg", metadata={"Date": None})
        # the XML prolog and DOCTYPE mean nothing in a data URL; drop their bytes
        svg = re.sub(r"\A.*?(?=<svg)", "", out.getvalue(), flags=re.S)
        svg = _GEOMETRY.sub(lambda m: m[1] + _DECIMALS.sub(r"\1", m[2]) + '"', svg)
        return _MARKERS.sub(_hoist_style, _INDENT.sub("\n", svg))

    def metadata(self) -> dict:
        """What the report template writes around the image: alt text, anchor, link back."""
        words = "the finding this figure shows" if self.finding else "the findings"
        return {"alt": self.alt, "id": self.anchor, "backlink": self.backlink,
                "backlink_text": f"Back to {words}"}

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {SVG: self.svg(), "text/plain": self.alt}, {SVG: self.metadata()}
