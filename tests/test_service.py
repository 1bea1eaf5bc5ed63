import pytest

from analysis.errors import ConfigError, ServiceError
from analysis.service import check_name, load_config, service_dir
from tests.conftest import EXAMPLES


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "..", ".hidden", "x y", "/etc"])
def test_names_that_are_not_plain_folder_names_are_refused(bad):
    with pytest.raises(ServiceError, match="plain folder name"):
        check_name(bad)


def test_unknown_service_lists_the_known_ones():
    with pytest.raises(ServiceError) as err:
        service_dir(EXAMPLES, "nope")
    assert "search-api" in str(err.value) and "payments-api" in str(err.value)


def test_example_service_yaml():
    config = load_config(EXAMPLES / "search-api")
    assert config.sdk == "aws-java-sdk-v1" and config.environments == ("ec2", "k8s")
    assert config.dns.names == ("elastic.example.com",) and config.dns.lookups_per_request == 2


@pytest.mark.parametrize("text, message", [
    ("sdk: aws-java-sdk-v1\nbudgett: {p50_ms: 1}\n", "unknown key.*budgett"),
    ("dns: {cache_ttl_s: ten}\n", "cache_ttl_s: expected a duration like 900, 900s, 15m or 1h"),
    ("dns: {names: elastic.example.com}\n", "names: expected a list"),
    ("environments: {baseline: ../ec2}\n", "environments.baseline"),
    ("- a\n- b\n", "expected a mapping"),
    ("sdk: [unclosed\n", "not valid YAML"),
    # custom formats (docs/formats.md): compiled here, so a bad one fails before any kernel
    ("name: x\nformats:\n  latency:\n    nginx: '$remote_addr $status $request_time'\n",
     r"line 4: formats.latency.nginx: no time variable: add \$time_local"),
    ("formats:\n  latency:\n    envoy: '[%START_TIME%] %RESPONSE_CODE%'\n",
     r"line 3: formats.latency.envoy: no latency operator: add %RESP"),
    ("formats:\n  latency:\n    apache: '%h %t'\n",
     r"line 3: formats.latency.apache: expected exactly one of \['nginx', 'envoy'\]"),
    ("formats: {latency: ingress-ngnix}\n", "line 1: formats.latency: unknown latency format"),
    ("formats: {latncy: envoy}\n", "line 1: formats.latncy: unknown evidence kind"),
    ("formats: {dig: {nginx: '$msec $request_time'}}\n",
     "formats.dig: expected a format name; format strings are for latency logs"),
])
def test_bad_service_yaml_names_file_and_key(tmp_path, text, message):
    (tmp_path / "service.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        load_config(tmp_path)
    assert "service.yaml" in str(err.value)


def test_service_yaml_is_optional(tmp_path):
    config = load_config(tmp_path)
    assert config.name == tmp_path.name and config.sdk is None


def test_formats_take_a_name_or_a_format_string(tmp_path):
    (tmp_path / "service.yaml").write_text("formats: {latency: envoy}\n")
    assert load_config(tmp_path).formats == {"latency": "envoy"}
    (tmp_path / "service.yaml").write_text(
        "formats:\n  latency:\n    nginx: '[$time_local] $status $request_time'\n")
    fmt = load_config(tmp_path).formats["latency"]
    assert fmt.name == "custom-nginx" and fmt.template == "[$time_local] $status $request_time"
