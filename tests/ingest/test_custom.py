"""Custom formats: nginx `log_format` and Envoy format strings compiled to parsers."""

import math
import re

import pandas as pd
import pytest

from analysis.errors import EvidenceError
from analysis.ingest import load_evidence
from analysis.ingest.custom import CustomRegexFormat, FormatStringError, compile_format
from analysis.ingest.envoy import Envoy
from analysis.ingest.field_format import FieldLogFormat
from analysis.ingest.ingress_nginx import IngressNginx
from analysis.ingest.regex_format import RegexLogFormat
from analysis.service import load_config

#: kubernetes/ingress-nginx internal/ingress/controller/config/config.go, logFormatUpstream
#: (commit 003f04ca), as the controller writes it into nginx.conf
LOG_FORMAT_UPSTREAM = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] '
    "[$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length "
    "$upstream_response_time $upstream_status $req_id")

ERROR_LOG = ("2023/03/08 10:00:00 [error] 31#31: *77 upstream timed out (110: Connection timed "
             "out) while reading response header from upstream")


def _log(tmp_path, lines: list[str], name: str = "access.log"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _both_paths(fmt, path):
    """The fast path's result, checked against the line-exact regex path on the same file."""
    fast = fmt.parse(path)
    exact = RegexLogFormat.parse(fmt, path)
    pd.testing.assert_frame_equal(fast.table, exact.table)
    assert list(fast.rejected["line"]) == list(exact.rejected["line"])
    return fast


def test_ingress_nginx_default_string_parses_like_the_built_in_format(tmp_path, fixture_path):
    assert LOG_FORMAT_UPSTREAM == IngressNginx.log_format
    fmt = compile_format("nginx", LOG_FORMAT_UPSTREAM)
    assert isinstance(fmt, FieldLogFormat) and fmt.field_count == IngressNginx.field_count
    good = fixture_path("ingress-nginx.log").read_text().splitlines()
    messy = _log(tmp_path, [*good, "garbage <script>", "", ERROR_LOG,
                            good[0].replace("0.272", "-0.5"),  # negative: not a number here
                            good[0].replace("2026", "2099"),   # implausible: in the future
                            good[0].replace("Nov", "Foo")])    # unreadable timestamp
    for path in (fixture_path("ingress-nginx.log"), messy):
        ours, builtin = _both_paths(fmt, path), IngressNginx().parse(path)
        pd.testing.assert_frame_equal(ours.table, builtin.table)
        assert list(ours.rejected["line"]) == list(builtin.rejected["line"])
        pd.testing.assert_frame_equal(ours.skipped, builtin.skipped)
        assert ours.lines == builtin.lines
    assert list(ours.table["line"]) == [1, 2, 3, 4]
    assert list(ours.rejected["line"]) == [5, 8, 9, 10]
    assert list(ours.skipped["what"]) == ["blank line", "nginx error-log line: upstream timed out"]


def test_custom_nginx_format_with_iso_time_and_upstream_time_first(tmp_path):
    fmt = compile_format(
        "nginx", '$time_iso8601 $upstream_response_time $status $request_time "$request" '
                 '"$http_user_agent" $remote_addr')
    assert isinstance(fmt, FieldLogFormat) and fmt.name == "custom-nginx"
    path = _log(tmp_path, [
        '2026-11-24T10:00:00+00:00 0.020 200 0.022 "GET /a HTTP/1.1" "okhttp/4.12.0" 10.0.0.1',
        '2026-11-24T11:00:01+01:00 0.050, 0.030 200 0.081 "GET /b HTTP/1.1" "curl/8" 10.0.0.2',
        '2026-11-24T10:00:02+00:00 - 504 5.001 "GET /c HTTP/1.1" "-" 10.0.0.3',
        "garbage",
        '2026-11-24T10:00:04+00:00 0.020 200 0.022 "GET /a HTTP/1.1" "okhttp/4.12.0"',
    ])
    parsed = _both_paths(fmt, path)
    t = parsed.table
    assert [str(x) for x in t["time"]] == ["2026-11-24 10:00:00+00:00",
                                           "2026-11-24 10:00:01+00:00",  # +01:00 to UTC
                                           "2026-11-24 10:00:02+00:00"]
    assert list(t["latency_ms"][:2]) == pytest.approx([20.0, 80.0])  # retries summed
    assert list(t["attempts"]) == [1, 2, 0]
    assert math.isnan(t["latency_ms"][2]) and t["status"][2] == 504  # no upstream answered
    assert list(t["total_ms"]) == pytest.approx([22.0, 81.0, 5001.0])
    assert list(parsed.rejected["line"]) == [4, 5]


def test_quotes_inside_fields_compile_to_a_regular_expression(tmp_path):
    fmt = compile_format("nginx", 'time=$time_iso8601 urt="$upstream_response_time" '
                                  "rt=$request_time status=$status")
    assert isinstance(fmt, CustomRegexFormat) and not isinstance(fmt, FieldLogFormat)
    parsed = fmt.parse(_log(tmp_path, [
        'time=2026-11-24T10:00:00+00:00 urt="0.020" rt=0.022 status=200',
        'time=2026-11-24T10:00:01+00:00 urt="0.050 : 0.030" rt=0.081 status=502',
        'time=2026-11-24T10:00:01+00:00 urt="-" rt=0.081 status=499',
        'time=2026-11-24T10:00:01+00:00 rt=0.081 status=499',
    ]))
    t = parsed.table
    assert list(t["latency_ms"][:2]) == pytest.approx([20.0, 80.0])
    assert list(t["status"]) == [200, 502, 499] and list(t["attempts"]) == [1, 2, 0]
    assert list(parsed.rejected["reason"]) == ["does not match the custom-nginx format"]


def test_envoy_custom_format_with_a_start_time_format(tmp_path):
    fmt = compile_format("envoy", "%START_TIME(%Y-%m-%dT%H:%M:%S%z)% %REQ(:METHOD)% "
                                  "%RESPONSE_CODE% %RESPONSE_FLAGS% %DURATION% "
                                  "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% %UPSTREAM_HOST% "
                                  "%BYTES_SENT%\n")
    assert isinstance(fmt, FieldLogFormat) and fmt.name == "custom-envoy"
    parsed = _both_paths(fmt, _log(tmp_path, [
        "2026-11-24T10:00:00+0000 GET 200 - 25 23 10.1.22.7:8080 512",
        "2026-11-24T11:00:01+0100 POST 503 UF 1002 - - 91",
        "2026-11-24T11:00:01+0100 POST 503 UF 1.5 - - 91",  # DURATION is whole ms
    ]))
    t = parsed.table
    assert [str(x) for x in t["time"]] == ["2026-11-24 10:00:00+00:00",
                                           "2026-11-24 10:00:01+00:00"]
    assert t["latency_ms"][0] == 23.0 and math.isnan(t["latency_ms"][1])  # ms, `-`: no answer
    assert list(t["total_ms"]) == [25.0, 1002.0] and list(t["status"]) == [200, 503]
    assert list(parsed.rejected["line"]) == [3]


def test_envoy_default_string_parses_like_the_built_in_format(fixture_path):
    fmt = compile_format("envoy", Envoy.log_format)
    path = fixture_path("envoy.log")
    pd.testing.assert_frame_equal(fmt.parse(path).table, Envoy().parse(path).table)


@pytest.mark.parametrize("dialect, template, line", [
    ("nginx", "$msec $request_time $status", "1795514400.123 0.020 200"),
    ("envoy", "%START_TIME(%s.%3f)% %DURATION% %RESPONSE_CODE%", "1795514400.123 20 200"),
])
def test_without_an_upstream_variable_the_total_is_the_latency(tmp_path, dialect, template,
                                                               line):
    t = compile_format(dialect, template).parse(_log(tmp_path, [line])).table
    assert str(t["time"][0]) == "2026-11-24 10:00:00.123000+00:00"
    assert t["latency_ms"][0] == t["total_ms"][0] == 20.0 and t["attempts"][0] == 1


def test_an_epoch_time_too_large_for_a_clock_is_rejected_not_wrapped(tmp_path):
    parsed = compile_format("nginx", "$msec $request_time").parse(
        _log(tmp_path, ["1795514400.123 0.020", "99999999999999999999999.5 0.020"]))
    assert len(parsed.table) == 1 and list(parsed.rejected["reason"]) == ["unreadable timestamp"]


def test_the_first_time_variable_is_the_time_and_a_second_one_a_plain_field(tmp_path):
    fmt = compile_format("nginx", "[$time_local] $msec ${request_time}s")
    t = fmt.parse(_log(tmp_path, ["[24/Nov/2026:10:00:00 +0000] 1.5 0.030s"])).table
    assert str(t["time"][0]) == "2026-11-24 10:00:00+00:00" and t["latency_ms"][0] == 30.0


@pytest.mark.parametrize("dialect, template, message", [
    ("nginx", '$remote_addr "$request" $status $request_time', "no time variable"),
    ("nginx", "[$time_local] $status $body_bytes_sent", "no latency variable"),
    ("envoy", "%DURATION% %RESPONSE_CODE%", "no time operator: add %START_TIME%"),
    ("envoy", "[%START_TIME%] %RESPONSE_CODE% %BYTES_SENT%", "no latency operator"),
    ("nginx", "$time_local $request_time $ x", "character 27: '$ x' is not an nginx variable"),
    ("envoy", "%START_TIME% %DURATION% 100%", "'%' is not a command operator"),
    ("envoy", "%START_TIME(%Y %e)% %DURATION%", "%e cannot be read back"),
    ("envoy", "%START_TIME(%Y%)% %DURATION%", "a '%' at the end that starts no directive"),
    ("nginx", '{"time": "$time_iso8601", "rt": $request_time}', "json-lines"),
    ("nginx", "  ", "expected a format string"),
    ("apache", "%h %t", "unknown dialect 'apache'"),
])
def test_a_format_string_that_cannot_be_read_says_what_is_missing(dialect, template, message):
    with pytest.raises(FormatStringError, match=re.escape(message)):
        compile_format(dialect, template)


CUSTOM_YAML = """name: custom
formats:
  latency:
    nginx: '$time_iso8601 $status $upstream_response_time "$request"'
"""


def custom_service(root):
    """A service whose access logs only a custom format in service.yaml can read."""
    folder = root / "custom"
    for env, ms in (("ec2", "0.020"), ("k8s", "0.110")):
        (folder / env / "latency").mkdir(parents=True)
        _log(folder / env / "latency", [f'2026-11-24T10:00:0{i}+00:00 200 {ms} "GET / HTTP/1.1"'
                                        for i in range(5)])
    return folder


def test_a_format_string_in_service_yaml_reads_the_evidence(tmp_path):
    folder = custom_service(tmp_path)
    with pytest.raises(EvidenceError, match="not a known latency format"):
        load_evidence(folder, load_config(folder))
    (folder / "service.yaml").write_text(CUSTOM_YAML)
    evidence = load_evidence(folder, load_config(folder))
    assert set(evidence.inputs.query("kind == 'latency'")["formats"]) == {"custom-nginx"}
    medians = evidence.latency.groupby("env")["latency_ms"].median()
    assert medians["ec2"] == pytest.approx(20.0) and medians["k8s"] == pytest.approx(110.0)
