"""The report's figures: the expected axes, labels and legends, no error on thin data, and what
issue 18 asks of them (budget lines, 95% intervals, no magnified noise, readable time axes, one
time range, the DNS-miss tail, alt text with the finding's numbers, SVG output)."""

import re
import xml.etree.ElementTree as ET
from functools import cache

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_hex, to_rgba

from analysis import plots, time_plots, waterfall
from analysis import result as results
from analysis.attribution import Analysis
from analysis.chart import SVG, Chart
from tests.conftest import EXAMPLES

THIN = Analysis("svc", "ec2", "k8s", {}, {}, {}, {}, {"ec2": 1.0, "k8s": 1.0},
                verdict={"cause": "inconclusive", "ready": False, "summary": "too few"})
NO_LATENCY = pd.DataFrame({"time": pd.to_datetime([], utc=True), "latency_ms": [], "env": []})


@cache
def analysed(service: str) -> results.Result:
    """A bundled example's result (analysis, evidence, findings, moments, latency digest)."""
    return results.compute(EXAMPLES / service)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _xticks(ax) -> list[str]:
    ax.figure.canvas.draw()
    return [t.get_text() for t in ax.get_xticklabels() if t.get_text()]


def test_the_ecdf_has_one_line_per_environment_on_a_log_axis():
    search = analysed("search-api")
    ax = plots.latency_ecdf(search.evidence.latency, search.analysis).axes[0]
    assert ax.get_title() == "Latency by environment" and ax.get_xscale() == "log"
    assert _legend(ax) == ["ec2", "k8s"]
    assert [line.get_label() for line in ax.get_lines()][:2] == ["ec2", "k8s"]


def test_the_attribution_bars_split_each_quantile_into_the_causes_in_words():
    ax = plots.attribution_bars(analysed("search-api").analysis).axes[0]
    assert _legend(ax)[:3] == ["credential refresh", "DNS", "unexplained"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["p50", "p90", "p99"]
    assert ax.get_xlabel() == "gap k8s - ec2 (ms)"


def test_the_attribution_bars_draw_each_budget_and_each_95_percent_interval():
    search = analysed("search-api").analysis
    ax = plots.attribution_bars(search).axes[0]
    budgets = [c for c in ax.collections if isinstance(c, LineCollection)
               and c.get_label() == "budget"]
    red = list(to_rgba(plots.BUDGET_COLOUR))
    at = sorted(seg[0][0] for c in ax.collections if isinstance(c, LineCollection)
                and c.get_color()[0].tolist() == red for seg in c.get_segments())
    assert budgets and at == [10, 50]
    assert {"budget 10 ms", "budget 50 ms"} <= {t.get_text() for t in ax.texts}
    assert "observed gap, 95% interval" in _legend(ax)
    whiskers = [seg for c in ax.collections if isinstance(c, LineCollection)
                and c not in budgets for seg in c.get_segments()]
    ends = sorted((round(s[0][0]), round(s[1][0])) for s in whiskers if s[0][1] == s[1][1])
    assert ends == sorted((round(g["ci95"][0]), round(g["ci95"][1]))
                          for g in search.gap_ms.values())


def test_a_gap_within_noise_does_not_fill_the_axis():
    ready = analysed("payments-api").analysis  # p99 -1.1 ms against a 50 ms budget
    assert ready.gap_ms["p99"]["value"] < 0
    chart = plots.attribution_bars(ready)
    low, high = chart.axes[0].get_xlim()
    assert high >= 50 and high - low > 10 * abs(ready.gap_ms["p99"]["value"])
    assert chart.axes[0].get_title().startswith("No gap beyond noise")
    assert "within its budget" in chart.alt


def test_without_a_measured_gap_the_bars_say_so():
    chart = plots.attribution_bars(THIN)
    assert [t.get_text() for t in chart.axes[0].texts] == [
        "no gap measured: too few requests (see the verdict)"]
    assert chart.alt.startswith("No gap measured")


def test_latency_over_time_has_a_panel_per_environment_on_one_time_axis():
    search = analysed("search-api")
    fig = plots.latency_over_time(search.evidence.latency, search.analysis, {})
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["ec2", "k8s"]
    assert all(ax.get_yscale() == "log" for ax in fig.axes)
    assert fig.axes[0].get_xlim() == fig.axes[1].get_xlim()


def test_only_p99_is_dashed_and_refreshes_are_marks_not_gridlines():
    search = analysed("listings-api")  # periodic refreshes inside the window
    chart = plots.latency_over_time(search.latency, search.analysis,
                                    search.moments)
    for ax in chart.axes:
        dashed = [line.get_label() for line in ax.get_lines() if line.get_linestyle() == "--"]
        assert dashed == ["p99"]
    marks = [line for ax in chart.axes for line in ax.get_lines()
             if line.get_label() == time_plots.REFRESH_LEGEND]
    assert marks and all(m.get_marker() == "v" and m.get_linestyle() == "None" for m in marks)
    assert "predicted credential refresh" in chart.alt


def test_time_axes_read_as_hours_and_minutes_with_the_date_in_the_label():
    search = analysed("search-api")
    chart = plots.latency_over_time(search.evidence.latency, search.analysis, {})
    labels = _xticks(chart.axes[-1])
    assert labels and all(re.fullmatch(r"\d\d:\d\d", label) for label in labels), labels
    assert re.fullmatch(r"time \(UTC, \d{4}-\d\d-\d\d\)", chart.axes[-1].get_xlabel())


@pytest.mark.parametrize(("hours", "pattern", "label"), [
    (30, r"\d\d [A-Z][a-z]{2} \d\d:\d\d", "time (UTC)"),
    (0.05, r"\d\d:\d\d:\d\d", "time (UTC, 2026-11-24)")])
def test_a_window_over_days_or_minutes_says_the_day_or_the_seconds(hours, pattern, label):
    start = pd.Timestamp("2026-11-24T10:00:00Z")
    ax = plots.new_figure(8, 2).subplots()
    time_plots.time_axis(ax, (start, start + pd.Timedelta(hours=hours)))
    labels = _xticks(ax)
    assert labels and all(re.fullmatch(pattern, t) for t in labels), labels
    assert len(set(labels)) == len(labels) and ax.get_xlabel() == label


def test_the_credentials_share_the_latency_window():
    search = analysed("search-api")
    over_time = plots.latency_over_time(search.latency, search.analysis,
                                        search.moments)
    creds = plots.credential_timeline(search.moments, search.analysis, 900.0,
                                      "aws-java-sdk-v1", latency=search.latency)
    window = over_time.axes[0].get_xlim()
    assert all(ax.get_xlim() == window for ax in creds.axes)
    assert creds.axes[0].get_position().x0 == pytest.approx(over_time.axes[0].get_position().x0)
    assert "ec2: 1 credential," in creds.axes[0].get_title()  # not "1 credentials"


def test_the_ecdf_marks_where_the_dns_miss_tail_starts():
    search = analysed("search-api")  # k8s: ~6% of requests miss the DNS cache
    chart = plots.latency_ecdf(search.latency, search.analysis)
    miss, extra = waterfall.dns_tail(search.analysis)
    texts = " ".join(t.get_text() for t in chart.axes[0].texts)
    assert "DNS-miss tail from" in texts and f"{miss:.0%} of k8s" in texts
    assert f"{miss:.0%} of k8s requests miss the DNS cache" in chart.alt
    # listings-api: every request misses (no cache), so there is no tail to point at
    assert waterfall.dns_tail(analysed("listings-api").analysis) is None


def test_alt_text_states_the_finding_in_the_result_numbers():
    search = analysed("search-api")
    gap = search.analysis.gap_ms
    alt = plots.attribution_bars(search.analysis).alt
    assert alt.startswith(f"k8s against ec2: {gap['p50']['value']:.0f} ms slower at p50")
    assert f"{gap['p99']['value']:.0f} ms slower at p99" in alt and "budget 50 ms" in alt
    refresh = search.analysis.attribution_ms["p50"]["credential_refresh"]
    assert f"credential refresh {refresh:.0f} ms at p50" in alt
    over = plots.latency_over_time(search.latency, search.analysis,
                                   search.moments).alt
    assert "k8s: every request refreshes credentials" in over
    creds = plots.credential_timeline(search.moments, search.analysis, 900.0,
                                      "aws-java-sdk-v1").alt
    assert "k8s served 7 credentials with a median lifetime of 15 min" in creds
    dig = plots.dig_times(search.evidence.dig, search.analysis).alt
    assert re.search(r"k8s median \d+ ms over \d+ queries", dig)


def test_each_figure_links_back_to_the_finding_it_shows():
    search = analysed("search-api")
    findings = search.findings
    chart = plots.latency_over_time(search.latency, search.analysis,
                                    search.moments, findings)
    assert chart.anchor == "fig-over-time"
    assert chart.backlink == "#finding-credential-refresh-every-request"
    assert plots.dig_times(search.evidence.dig, search.analysis, findings).backlink == \
        "#finding-dns-search-expansion"
    assert plots.dig_times(search.evidence.dig, search.analysis).backlink == "#findings"


def test_a_chart_displays_as_svg_with_its_alt_anchor_and_link_in_the_metadata():
    search = analysed("search-api")
    chart = plots.attribution_bars(search.analysis, search.findings)
    data, metadata = chart._repr_mimebundle_()
    root = ET.fromstring(data[SVG])
    assert root.tag.endswith("svg") and root.find(".//{*}text") is not None  # text as text
    assert metadata[SVG] == {"alt": chart.alt, "id": "fig-attribution",
                             "backlink": "#finding-credential-refresh-every-request",
                             "backlink_text": "Back to the finding this figure shows"}
    assert chart.svg() == chart.svg()  # the same bytes for the same result


def test_every_figure_renders_on_no_evidence_at_all():
    charts = [plots.latency_over_time(NO_LATENCY, THIN, {}),
              plots.latency_vs_load(NO_LATENCY, THIN),
              plots.dig_times(pd.DataFrame({"query_time_ms": [], "env": []}), THIN),
              plots.credential_timeline({}, THIN, 900.0, "aws-java-sdk-v1"),
              plots.request_waterfall(THIN)]
    for chart in charts:
        assert isinstance(chart, Chart) and len(chart.axes) >= 1 and chart.alt
        chart.svg()  # laid out and drawn without an error
    assert charts[2].axes[0].get_title() == "DNS query time per environment"
    assert "aws-java-sdk-v1's refresh threshold (15 min" in charts[3].figure.get_suptitle()


def test_the_ecdf_draws_three_requests():
    few = pd.DataFrame({"time": pd.to_datetime(["2026-11-24T10:00:00Z"] * 3, utc=True),
                        "latency_ms": [12.0, 80.0, 95.0], "env": ["ec2", "k8s", "k8s"]})
    chart = plots.latency_ecdf(few, THIN)
    chart.svg()
    assert _legend(chart.axes[0]) == ["ec2", "k8s"]


def test_the_waterfall_draws_a_row_per_request_with_modelled_segments_hatched():
    search = analysed("search-api")
    chart = plots.request_waterfall(search.analysis, search.evidence.metadata,
                                    findings=search.findings)
    ax = chart.axes[0]
    assert [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()] == [
        "ec2 typical request", "k8s typical request",
        "k8s on a DNS cache miss (6% of requests)"]
    hatched = [p for p in ax.patches if p.get_hatch() and p.get_width() > 0]
    assert hatched and {to_hex(p.get_facecolor()) for p in hatched} == {
        plots.KIND_COLOURS["dns"]}
    assert "modelled (hatched)" in _legend(ax) and chart.anchor == "fig-waterfall"
    assert "2 metadata calls" in chart.alt and "(measured)" in chart.alt
    assert "5 DNS names tried 70 ms (modelled)" in chart.alt
    note = " ".join(t.get_text() for t in chart.figure.texts).replace("\n", " ")
    assert "elastic.example.com.search.svc.cluster.local. 1.0 ms" in note.replace("    ", "")


def test_a_figure_is_lighter_as_svg_than_the_budget_allows():
    search = analysed("search-api")
    charts = [plots.attribution_bars(search.analysis),
              plots.latency_ecdf(search.latency, search.analysis),
              plots.latency_over_time(search.latency, search.analysis,
                                      search.moments),
              plots.latency_vs_load(search.latency, search.analysis),
              plots.dig_times(search.evidence.dig, search.analysis),
              plots.credential_timeline(search.moments, search.analysis, 900.0,
                                        "aws-java-sdk-v1", latency=search.latency),
              plots.request_waterfall(search.analysis)]
    sizes = {c.anchor: len(c.svg().encode()) for c in charts}
    # base64 in report.html adds a third: all seven stay under 200 KB of a 400 KB page
    assert sum(sizes.values()) * 4 / 3 < 200_000, sizes



def test_the_report_template_writes_the_figure_with_its_anchor_escaped_alt_and_link(tmp_path):
    import base64

    import nbformat

    from analysis import pipeline

    evil = '<script>alert("x")</script> & "quotes"'
    chart = plots.attribution_bars(THIN)
    chart.alt, chart.finding = evil, "dns-search-expansion"
    data, metadata = chart._repr_mimebundle_()
    cell = nbformat.v4.new_code_cell("plots.attribution_bars(analysis)", outputs=[
        nbformat.v4.new_output("display_data", data=data, metadata=metadata)])
    executed = tmp_path / "figure.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), executed)
    html = pipeline.render_html(executed, tmp_path / "figure.html", "figure").read_text()
    figure = re.search(r'<figure[^>]*id="fig-attribution"[^>]*>(.*?)</figure>', html, re.S)
    assert figure, "no <figure id=fig-attribution>"
    assert "<script>" not in figure[1] and "&lt;script&gt;" in figure[1]
    encoded = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', figure[1])[1]
    assert base64.b64decode(encoded).decode() == data[SVG]
    assert 'href="#finding-dns-search-expansion"' in figure[1]
    assert "max-width: 100%" in figure[1]  # scales down to a phone or a printed page
    assert 'src="data:image/png' not in html  # the figure is SVG, not a PNG beside it
