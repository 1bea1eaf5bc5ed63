"""The report's HTML pieces escape everything that came from evidence or configuration."""

import re
from dataclasses import replace

import pandas as pd

from analysis import view, view_findings
from analysis.attribution import Analysis
from analysis.fingerprint import combine
from tests.analysed import analysed

EVIL = '<script>alert("x")</script>'


def _thin(**changes) -> Analysis:
    base = Analysis("svc", "ec2", "k8s", {}, {}, {}, {}, {"ec2": 1.0, "k8s": 1.0},
                    verdict={"cause": "inconclusive", "ready": False, "summary": "too few"})
    return replace(base, **changes)


def test_a_table_escapes_its_cells_and_says_when_it_is_empty():
    html = view.table(pd.DataFrame({"line": [EVIL]})).data
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert view.table(pd.DataFrame(), f"nothing {EVIL}").data == \
        "<p><em>nothing &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</em></p>"


def test_the_banner_escapes_the_service_and_the_summary():
    html = view.banner(_thin(service=EVIL, verdict={"cause": "inconclusive", "ready": False,
                                                    "summary": EVIL})).data
    assert "<script>" not in html and html.count("&lt;script&gt;") == 2
    assert "BLOCKED" in html and "inconclusive" in html and "not measured" in html


def test_the_banner_of_a_measured_gap_shows_it_with_its_interval_and_budget():
    html = view.banner(analysed("search-api").analysis).data
    assert "search-api: BLOCKED" in html and "credential refresh" in html
    assert "95% interval" in html and "over its 10 ms budget" in html
    assert html.count("<h1") == 1 and "search-api: BLOCKED" in html.split("</h1>")[0]


def test_findings_show_their_gains_the_gap_after_all_fixes_and_escape_their_code():
    analysis = analysed("search-api").analysis
    gap = {q: analysis.gap_ms[q]["value"] for q in ("p50", "p99")}
    findings = [{"id": "x", "severity": "blocker", "evidence": EVIL, "fix": "f",
                 "fix_code": [{"label": EVIL, "language": "yaml", "code": f"a: {EVIL}\n"}],
                 "gain_ms": 9.0, "gap_after_fix_ms": {"p50": gap["p50"] - 9,
                                                      "p99": gap["p99"] - 40},
                 "cause": "credential_refresh"},
                {"id": "y", "severity": "info", "evidence": "e", "fix": "f", "gain_ms": 0.0,
                 "gap_after_fix_ms": {}}]
    html = view.findings(findings, analysis).data
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert 'id="tab-findings"' in html and 'id="finding-x"' in html and 'id="finding-y"' in html
    assert "<td>9</td><td>40</td>" in html  # gain at p50 and p99
    assert "after all fixes" in html and html.count('class="lg-copy"') == 1
    assert "<summary>Checks that passed" in html
    assert "Nothing to fix" in view.findings([], analysis).data


def test_the_footer_escapes_parameters_and_names_the_evidence_fingerprint():
    files = {f"k8s/{EVIL}.log": "cd" * 32}
    html = view.footer({"service": EVIL}, files).data
    assert "<script>" not in html
    assert combine(files)[:16] in html and "SHA-256 of 1 file)" in html


def test_the_banner_names_every_blocker_and_the_gap_after_fixing_them_all():
    from analysis import result
    from tests.conftest import EXAMPLES

    # a 40 ms p99 budget makes DNS (48 ms of search-api's p99 gap) a blocker beside credentials
    done = result.compute(EXAMPLES / "search-api", {"budget.p99_ms": 40})
    blockers = done.summary()["verdict"]["blockers"]
    assert blockers == ["credential-refresh-every-request", "dns-search-expansion"]
    html = view.banner(done.analysis, done.what_if, done.findings).data
    assert "2 blockers:" in html and "After fixing all 2:" in html
    assert all(f'href="#finding-{b}"' in html for b in blockers)
    after = done.summary()["after_fixes"]["blockers"]["gap_after_ms"]
    assert f"p99 {view_findings.ms(after['p99'])}" in html
    assert "against budgets of 10 and 40 ms" in html


def test_findings_are_named_in_words():
    assert view_findings.words("dns-search-expansion") == "DNS search-list expansion"
    assert view_findings.words("missing-resolv-conf-k8s") == "no resolv.conf from k8s"
    assert view_findings.words("missing-dig-ec2") == "no dig timings from ec2"
    assert view_findings.words("some-new-finding") == "some new finding"
    assert view_findings.ms(-0.4) == "0 ms" and view_findings.ms(-2.4) == "\u22122 ms"


def test_the_method_section_carries_the_budgets_and_the_contents_counts_findings():
    done = analysed("search-api")
    method = view.method(done.analysis).data
    assert method.startswith('<h2 id="method">') and "10 ms at p50 and 50 ms at p99" in method
    contents = view.contents(done.findings).data
    assert "(1 blocker, 1 warning)" in contents
    assert [a for a, _ in view.SECTIONS] == re.findall(r'href="#([^"]+)"', contents)
