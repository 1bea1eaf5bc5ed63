import math
import shutil

import numpy as np
import pytest

from analysis.errors import EvidenceError
from analysis.ingest import load_evidence, reading, registry, rows
from analysis.ingest.aws_alb import AwsAlb
from analysis.ingest.envoy import Envoy
from analysis.ingest.ingress_nginx import IngressNginx
from analysis.service import load_config


def test_nginx_backend_time_sums_retries_and_keeps_no_upstream_as_nan(fixture_path):
    parsed = IngressNginx().parse(fixture_path("ingress-nginx.log"))
    t = parsed.table
    assert parsed.lines == 4 and parsed.rejected.empty
    assert list(t["line"]) == [1, 2, 3, 4]
    assert t["latency_ms"][0] == pytest.approx(272.0)
    assert t["latency_ms"][1] == pytest.approx(102.0)  # "0.050, 0.052": two attempts
    assert t["attempts"][1] == 2
    assert math.isnan(t["latency_ms"][2]) and t["status"][2] == 499  # "-": no upstream
    assert t["latency_ms"][3] == pytest.approx(30.0)  # "0.010 : 0.020": internal redirect
    assert t["total_ms"][0] == pytest.approx(273.0)
    assert str(t["time"][0]) == "2026-11-24 10:00:00+00:00"


def test_alb_target_time_is_nan_when_target_did_not_answer(fixture_path, gzipped):
    parsed = AwsAlb().parse(gzipped("alb.log"))
    t = parsed.table
    assert len(t) == 3 and parsed.rejected.empty
    assert t["latency_ms"][0] == pytest.approx(20.0)
    assert t["total_ms"][0] == pytest.approx(23.0)
    assert math.isnan(t["latency_ms"][2]) and t["status"][2] == 504


def test_unparseable_lines_are_rejected_with_line_numbers(tmp_path, fixture_path):
    lines = fixture_path("ingress-nginx.log").read_text().splitlines()
    path = tmp_path / "mixed.log"
    path.write_text("\n".join([lines[0], "garbage <script>", lines[1], "", lines[3]]) + "\n")
    parsed = IngressNginx().parse(path)
    assert parsed.lines == 5
    assert list(parsed.table["line"]) == [1, 3, 5]
    assert list(parsed.rejected["line"]) == [2]
    assert parsed.rejected["text"][0] == "garbage <script>"
    # a blank line is neither a request nor an error: skipped and counted
    assert list(parsed.skipped["line"]) == [4] and list(parsed.skipped["what"]) == ["blank line"]


def test_mostly_unparseable_file_is_an_error_naming_file_format_and_samples(tmp_path,
                                                                             fixture_path):
    good = fixture_path("ingress-nginx.log").read_text().splitlines()[0]
    path = tmp_path / "access.log"
    path.write_text("\n".join([good] * 10 + ["not a log line"] * 2) + "\n")
    fmt = registry.detect("latency", path)
    parsed = fmt.parse(path)
    with pytest.raises(EvidenceError) as err:
        rows.check_rejected_share(path, fmt.name, parsed)
    message = str(err.value)
    assert str(path) in message and "ingress-nginx" in message
    assert "line 11" in message and "not a log line" in message


@pytest.mark.parametrize("name, expected", [("ingress-nginx.log", "ingress-nginx"),
                                            ("alb.log", "aws-alb")])
def test_format_is_detected_from_content(fixture_path, name, expected):
    assert registry.detect("latency", fixture_path(name)).name == expected


def test_unknown_format_names_the_file(tmp_path):
    path = tmp_path / "weird.log"
    path.write_text("hello world\n")
    with pytest.raises(EvidenceError, match="weird.log.*not a known latency format"):
        registry.detect("latency", path)


@pytest.mark.parametrize("name, fmt", [("envoy.log", "envoy"), ("istio.log", "istio")])
def test_envoy_and_istio_upstream_time_is_the_backend_latency(fixture_path, name, fmt):
    assert registry.detect("latency", fixture_path(name)).name == fmt
    parsed = registry.REGISTRY["latency"][fmt].parse(fixture_path(name))
    t = parsed.table
    assert parsed.rejected.empty and list(t["line"]) == [1, 2]
    assert t["latency_ms"][0] == 23 and t["total_ms"][0] == 25 and t["status"][0] == 200
    assert math.isnan(t["latency_ms"][1]) and t["attempts"][1] == 0
    assert str(t["time"][0]) == "2026-11-24 10:00:00.123000+00:00"


def test_every_alb_entry_type(fixture_path):
    parsed = AwsAlb().parse(fixture_path("alb-entry-types.log"))
    assert parsed.rejected.empty and len(parsed.table) == 4


def test_several_formats_in_one_folder_and_a_forced_format(example_copy, fixture_path):
    folder = example_copy("payments-api")
    shutil.copy(fixture_path("envoy.log"), folder / "k8s" / "latency" / "sidecar.log")
    evidence = load_evidence(folder, load_config(folder))
    k8s = evidence.inputs.query("env == 'k8s' and kind == 'latency'").iloc[0]
    assert k8s["files"] == 2 and k8s["formats"] == "envoy,ingress-nginx"
    (folder / "service.yaml").write_text("formats: {latency: envoy}\n")
    with pytest.raises(EvidenceError, match="could not be parsed as envoy"):
        load_evidence(folder, load_config(folder))  # ALB and nginx lines are not Envoy lines


def test_kubectl_logs_mix_is_counted_by_kind_not_rejected(tmp_path, fixture_path):
    """nginx error-log, klog and Envoy lines among the access lines are skipped by what they
    are; upstream timeouts get their own name (evidence of their own)."""
    lines = fixture_path("ingress-nginx.log").read_text().splitlines()
    other = [
        "2023/03/08 10:00:00 [error] 31#31: *77 upstream timed out (110: Connection timed out) "
        "while reading response header from upstream, client: 10.0.0.1",
        "2023/03/08 10:00:01 [warn] 31#31: *78 a client request body is buffered",
        "I0308 10:00:00.123456       7 controller.go:169] Configuration changes detected",
        "",
    ]
    path = tmp_path / "kubectl.log"
    path.write_text("\n".join(lines[:2] + other + lines[2:4]) + "\n")
    parsed = IngressNginx().parse(path)
    assert list(parsed.table["line"]) == [1, 2, 7, 8] and parsed.rejected.empty
    assert list(parsed.skipped["what"]) == [
        "nginx error-log line: upstream timed out", "nginx error-log line",
        "Go (klog) log line", "blank line"]


def test_nginx_giving_up_on_the_backend_is_no_answer_like_albs_minus_one(tmp_path,
                                                                         fixture_path):
    """502/504 as the last upstream status are written by nginx itself: its upstream time is
    waiting, not an answer (ALB logs -1 for the same request)."""
    line = fixture_path("ingress-nginx.log").read_text().splitlines()[0]
    timed_out = line.replace(" 0.272 200 ", " 60.001 504 ")
    retried = line.replace(" 0.272 200 ", " 0.050, 0.052 502, 200 ").replace(
        " 2844 0.272", " 0, 2844 0.050, 0.052")
    path = tmp_path / "x.log"
    path.write_text("\n".join([line, timed_out, retried] * 30) + "\n")
    fast, exact = IngressNginx().parse, IngressNginx().parse_column  # both paths
    for parse in (fast, lambda p: exact(p, *reading.read_lines(p)[:2])):
        table = parse(path).table
        assert table["latency_ms"][:3].round(1).tolist()[0] == 272.0
        assert np.isnan(table["latency_ms"][1]) and table["total_ms"][1] > 0
        assert table["latency_ms"][2] == pytest.approx(102.0)  # the retry answered


def test_envoy_tcp_proxy_entries_are_not_requests(tmp_path, fixture_path):
    lines = fixture_path("envoy.log").read_text().splitlines()
    tcp = '[2026-11-24T10:00:02.000Z] "- - -" 0 - 0 0 1000 - "-" "-" "-" "-" "10.1.22.7:5432"'
    path = tmp_path / "envoy.log"
    path.write_text("\n".join(lines + [tcp] * 2) + "\n")
    parsed = Envoy().parse(path)
    assert len(parsed.table) == len(lines) and parsed.rejected.empty
    assert parsed.skipped["what"].tolist() == ["Envoy TCP proxy entry (not an HTTP request)"] * 2
