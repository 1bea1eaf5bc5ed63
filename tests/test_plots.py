"""The report's figures: the expected axes, labels and legends, and no error on thin data."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from analysis import plots
from analysis.attribution import Analysis
from tests.analysed import analysed

THIN = Analysis("svc", "ec2", "k8s", {}, {}, {}, {}, {"ec2": 1.0, "k8s": 1.0},
                verdict={"cause": "inconclusive", "ready": False, "summary": "too few"})
NO_LATENCY = pd.DataFrame({"time": pd.to_datetime([], utc=True), "latency_ms": [], "env": []})


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_the_ecdf_has_one_line_per_environment_on_a_log_axis():
    search = analysed("search-api")
    ax = plots.latency_ecdf(search.evidence.latency, search.analysis).axes[0]
    assert ax.get_title() == "Latency by environment" and ax.get_xscale() == "log"
    assert _legend(ax) == ["ec2", "k8s"] and len(ax.get_lines()) == 2


def test_the_attribution_bars_split_each_quantile_into_the_causes():
    ax = plots.attribution_bars(analysed("search-api").analysis).axes[0]
    assert _legend(ax) == ["credential_refresh", "dns", "unexplained"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["p50", "p90", "p99"]
    assert ax.get_xlabel() == "gap k8s - ec2 (ms)"


def test_without_a_measured_gap_the_bars_say_so():
    ax = plots.attribution_bars(THIN).axes[0]
    assert [t.get_text() for t in ax.texts] == [
        "no gap measured: too few requests (see the verdict)"]


def test_latency_over_time_has_a_panel_per_environment():
    search = analysed("search-api")
    fig = plots.latency_over_time(search.evidence.latency, search.analysis, {})
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["ec2", "k8s"]
    assert all(ax.get_yscale() == "log" for ax in fig.axes)


def test_every_figure_renders_on_no_evidence_at_all():
    figures = [plots.latency_over_time(NO_LATENCY, THIN, {}),
               plots.latency_vs_load(NO_LATENCY, THIN),
               plots.dig_times(pd.DataFrame({"query_time_ms": [], "env": []}), THIN),
               plots.credential_timeline({}, THIN, 900.0, "aws-java-sdk-v1")]
    for fig in figures:
        fig.canvas.draw()  # laid out and drawn without an error
        assert len(fig.axes) >= 1
    assert figures[2].axes[0].get_title() == "DNS query time per environment"
    assert "aws-java-sdk-v1's refresh threshold (15 min" in figures[3].get_suptitle()


def test_the_ecdf_draws_three_requests():
    few = pd.DataFrame({"time": pd.to_datetime(["2026-11-24T10:00:00Z"] * 3, utc=True),
                        "latency_ms": [12.0, 80.0, 95.0], "env": ["ec2", "k8s", "k8s"]})
    fig = plots.latency_ecdf(few, THIN)
    fig.canvas.draw()
    assert _legend(fig.axes[0]) == ["ec2", "k8s"]
