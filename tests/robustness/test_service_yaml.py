"""service.yaml from someone else's repository: every bad one is a clear error naming the
file and the line, raised before any kernel starts, and none of them runs code or eats memory."""

import os
import resource
import shutil

import pytest

from analysis import cli, service
from analysis.errors import ConfigError
from tests.conftest import EXAMPLES
from tests.robustness.conftest import TALLY

BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'] +
    [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
     f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
     f"*{chr(97 + i)}]" for i in range(8)]) + "\n"

CASES = {
    "unknown key": ("name: x\nsdkk: botocore\n", "line 2: sdkk: unknown key"),
    "unknown nested key": ("name: x\ndns:\n  names: [a.b]\n  cache_ttl: 5\n",
                           "line 4: dns.cache_ttl: unknown key"),
    "wrong type": ("name: x\nbudget:\n  p50_ms: fast\n",
                   "line 3: budget.p50_ms: expected a number"),
    "negative number": ("dns:\n  cache_ttl_s: -1\n",
                        "line 2: dns.cache_ttl_s: expected a duration of 0 or more"),
    "string expected": ("sdk: [botocore]\n", "line 1: sdk: expected a string"),
    "unsafe tag": ("name: !!python/object/apply:os.system ['touch /tmp/pwned-by-yaml']\n",
                   "could not determine a constructor"),
    "alias bomb": (BILLION_LAUGHS, "anchors and aliases"),
    "not a mapping": ("- name: x\n", "line 1: expected a mapping"),
    "broken syntax": ("name: x\n\tdns: {}\n", "not valid YAML"),
    "environment escapes": ("environments: {baseline: ../../etc, candidate: k8s}\n",
                            "line 1: environments.baseline: expected a folder name"),
    "huge file": ("name: x\n" + "# padding\n" * 10_000, "a service.yaml is at most 64 KB"),
    "not UTF-8": (b"name: caf\xe9\n", "not UTF-8"),
    "duplicate key": ("sdk: aws-java-sdk-v1\nname: x\nsdk: botocore\n",
                      "line 3: sdk is given twice (first on line 1)"),
    "duplicate nested key": ("budget:\n  p50_ms: 10\n  p50_ms: 90\n",
                             "line 3: budget.p50_ms is given twice"),
    "same environments": ("environments: {baseline: k8s, candidate: k8s}\n",
                          "baseline and candidate are the same folder"),
    "unknown provider": ("credential_provider: kiamm\n",
                         "line 1: credential_provider: unknown credential_provider 'kiamm'"),
    "unknown sdk": ("name: x\nsdk: aws-java-sdk-v9\n", "line 2: sdk: unknown sdk"),
    "not a number": ("budget:\n  p50_ms: .nan\n", "line 2: budget.p50_ms: expected a number"),
    "infinite": ("budget:\n  p99_ms: .inf\n", "line 2: budget.p99_ms: expected a number"),
    "NUL byte": ("name: x\nsdk: bo\x00tocore\n", "line 2: a NUL byte"),
    "format string without a time": (
        "name: x\nformats:\n  latency:\n    nginx: >-\n      $remote_addr \"$request\" "
        "$status\n      $request_time\n", "line 4: formats.latency.nginx: no time variable"),
    "format string without a latency": (
        "formats: {latency: {envoy: '[%START_TIME%] %RESPONSE_CODE% %BYTES_SENT%'}}\n",
        "line 1: formats.latency.envoy: no latency operator"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_service_yaml_is_a_clear_error(case, tmp_path):
    text, expected = CASES[case]
    folder = tmp_path / "svc"
    folder.mkdir()
    path = folder / "service.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ConfigError) as raised:
        service.load_config(folder)
    assert str(path) in str(raised.value) and expected in str(raised.value), raised.value
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 50, f"{case} grew the process by {grown_mb:.0f} MB"
    TALLY["bad_inputs"] += 1


def test_no_yaml_tag_ran_code():
    assert not os.path.exists("/tmp/pwned-by-yaml")


def test_a_bad_service_yaml_stops_the_report_before_any_kernel(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(EXAMPLES / "payments-api", data / "payments-api")
    (data / "payments-api" / "service.yaml").write_text("name: x\nbudget: {p50_ms: soon}\n")
    code = cli.main(["report", "payments-api", "--data-dir", str(data), "--reports-dir",
                     str(tmp_path / "reports")])
    err = capsys.readouterr().err
    assert code == 1 and "line 2: budget.p50_ms: expected a number" in err
    assert not (tmp_path / "reports" / ".staging").exists() or \
        not any((tmp_path / "reports" / ".staging").iterdir())
    TALLY["bad_inputs"] += 1
