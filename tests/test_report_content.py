"""What a reader finds in report.html: every section, in order, for each example service;
the figures; the evidence fingerprint; and the pieces the sections are built from."""

import json
import re

import matplotlib.colors as mcolors
import pandas as pd
import pytest

from analysis import fingerprint, ingest, plots, service, time_plots, view
from analysis.attribution import analyse
from analysis.models.credentials import policy, refresh_moments
from tests.conftest import EXAMPLES

SECTIONS = ["What the gap is made of", "Findings and fixes", "Latency", "DNS", "Credentials",
            "Data quality", "How this is computed"]
#: attribution, request waterfall, ECDF, latency over time, latency against rate, dig times,
#: credential timeline
FIGURES = 7
#: the bundled examples; orders-api's evidence is packet captures (scripts/capture-example)
EXAMPLE_NAMES = ["search-api", "listings-api", "payments-api", "orders-api"]


@pytest.fixture(scope="module")
def reports(example_reports):
    return example_reports


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_section_in_order_with_its_figures(reports, name):
    html = (reports[name] / name / "report.html").read_text()
    banner = html.index('class="lg-banner"')
    headings = [html.index(f'<h2 id="{anchor}">{title}<', banner)
                for title, (anchor, _) in zip(SECTIONS, view.SECTIONS, strict=True)]
    assert headings == sorted(headings), "sections out of order"
    assert len(re.findall(r'<img[^>]+src="data:image/svg\+xml;base64,', html)) == FIGURES
    alts = re.findall(r'<img[^>]*\salt="([^"]*)"', html)
    assert len(alts) == FIGURES and all(len(alt) > 20 and "No description" not in alt
                                        for alt in alts), alts
    blocked = name != "payments-api"
    assert ("gap after this fix" in html) is blocked and ("Nothing to fix" in html) is not blocked
    for piece in ("queries per uncached lookup", "overlap for",
                  "evidence fingerprint", "every credential fetch got a credential"):
        assert piece in html, piece


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_footer_fingerprint_is_the_evidence_on_disk(reports, name):
    summary = json.loads((reports[name] / name / "summary.json").read_text())
    expected = fingerprint.evidence_fingerprint(EXAMPLES / name)
    assert summary["evidence"]["fingerprint"] == expected
    html = (reports[name] / name / "report.html").read_text()
    assert f"<code>{expected[:16]}</code>" in html


def test_fingerprint_changes_with_any_byte_or_name(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "log").write_text("one\n")
    first = fingerprint.evidence_fingerprint(tmp_path)
    (tmp_path / "a" / "log").write_text("one!\n")
    edited = fingerprint.evidence_fingerprint(tmp_path)
    (tmp_path / "a" / "log").rename(tmp_path / "a" / "log2")
    renamed = fingerprint.evidence_fingerprint(tmp_path)
    assert len({first, edited, renamed}) == 3


def _search_api():
    folder = EXAMPLES / "search-api"
    settings = service.load_config(folder)
    evidence = ingest.load_evidence(folder, settings)
    return settings, evidence, analyse(evidence, settings)


def test_logs_hours_apart_are_said_not_to_overlap():
    settings, evidence, result = _search_api()
    later = evidence.latency["env"] == result.candidate
    evidence.latency.loc[later, "time"] += pd.Timedelta(hours=5)
    html = view.time_ranges(evidence, result).data
    assert "do not overlap" in html and "4 h apart" in html


def test_periodic_refreshes_are_marked_where_the_model_predicts_them():
    settings, evidence, result = _search_api()
    # six-hour credentials with aws-sdk-go: a refresh 5 min before each expiry
    creds = evidence.credentials.copy()
    k8s = creds["env"] == result.candidate
    start = evidence.latency.loc[evidence.latency["env"] == result.candidate, "time"].min()
    creds.loc[k8s, "last_updated"] = start - pd.Timedelta(hours=5, minutes=35)
    creds.loc[k8s, "expiration"] = start + pd.Timedelta(minutes=25)
    creds.loc[k8s, "key_id"] = "one-key"
    moments = {result.candidate: refresh_moments(creds, result.candidate, policy("aws-sdk-go"))}
    fig = plots.latency_over_time(evidence.latency, result, moments)
    marked = [when for ax in fig.axes for line in ax.get_lines()
              if line.get_label() == time_plots.REFRESH_LEGEND for when in line.get_xdata()]
    assert marked == [start + pd.Timedelta(minutes=20)]


def test_each_environment_keeps_its_colour_and_every_axis_has_a_unit():
    settings, evidence, result = _search_api()
    sdk = policy(settings.sdk)
    moments = {env: refresh_moments(evidence.credentials, env, sdk)
               for env in (result.baseline, result.candidate)}
    figures = [plots.latency_ecdf(evidence.latency, result),
               plots.latency_over_time(evidence.latency, result, moments),
               plots.latency_vs_load(evidence.latency, result),
               plots.dig_times(evidence.dig, result),
               plots.credential_timeline(moments, result, sdk.refresh_before_expiry_s,
                                         settings.sdk)]
    expected = plots.env_colours(result.baseline, result.candidate)[result.candidate]
    for fig in figures:
        colours = {mcolors.to_hex(c) for ax in fig.axes for c in
                   [line.get_color() for line in ax.get_lines()] +
                   [coll.get_facecolor()[0] for coll in ax.collections if len(
                       coll.get_facecolor())] +
                   [patch.get_facecolor() for patch in ax.patches]}
        assert mcolors.to_hex(expected) in colours, fig.axes[0].get_title()
        for ax in fig.axes:
            assert "(" in ax.get_xlabel(), f"no unit on {ax.get_title()}"


def test_too_many_predicted_refreshes_are_counted_not_drawn():
    settings, evidence, result = _search_api()
    start = evidence.latency.loc[evidence.latency["env"] == result.candidate, "time"].min()
    issued = start + pd.to_timedelta(range(200), "s") * 15 - pd.Timedelta(minutes=55)
    creds = pd.DataFrame({"env": result.candidate, "code": "Success",
                          "key_id": [f"k{i}" for i in range(200)], "last_updated": issued,
                          "expiration": issued + pd.Timedelta(hours=1)})
    moments = {result.candidate: refresh_moments(creds, result.candidate, policy("aws-sdk-go"))}
    fig = plots.latency_over_time(evidence.latency, result, moments)
    dashed = [line for ax in fig.axes for line in ax.get_lines()
              if line.get_linestyle() == "--" and len(set(line.get_xdata())) == 1]
    assert dashed == [] and "predicted refreshes (not drawn)" in fig.axes[-1].get_title()


def test_failed_credential_fetches_are_listed_with_their_file_and_line(fixture_path):
    from analysis.ingest.credentials import ImdsJson

    table = ImdsJson().parse(fixture_path("credentials-transcript.txt")).table
    evidence = ingest.Evidence(*[pd.DataFrame()] * 2, table.assign(env="k8s"),
                               *[pd.DataFrame()] * 5)
    html = view.failed_fetches_table(evidence).data
    assert html.count("<tr>") == 5 and "Success" not in html  # the header row is styled
    assert "TokenPutTimeout" in html and "credentials-transcript.txt" in html
    assert "fetched at (UTC)" in html and "2026-11-24 10:00:00<" in html  # the 404's Date


def test_data_quality_says_where_each_backend_time_came_from(reports):
    """Inspect and the report say which field each file's latency came from; the
    skipped lines are counted by what they are (none in the bundled examples)."""
    summary = json.loads((reports["search-api"] / "search-api" / "summary.json").read_text())
    inputs = summary["inputs"]
    assert inputs["k8s"]["latency"]["latency_from"] == "$upstream_response_time (s)"
    assert inputs["ec2"]["latency"]["latency_from"] == "target_processing_time (s)"
    assert inputs["k8s"]["latency"]["skipped"] == {}
    html = (reports["search-api"] / "search-api" / "report.html").read_text()
    assert "backend time from" in html and "no skipped lines" in html
