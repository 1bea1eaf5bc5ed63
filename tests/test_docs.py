"""Documentation stays true to the code: each format, SDK key and make target is documented."""

import re

import pytest

from analysis import config
from analysis.ingest.registry import REGISTRY
from analysis.models.credentials import POLICIES

ROOT = config.PROJECT_ROOT
README = (ROOT / "README.md").read_text()
FORMATS_DOC = (ROOT / "docs" / "formats.md").read_text()
METHOD_DOC = (ROOT / "docs" / "method.md").read_text()


@pytest.mark.parametrize("name", sorted(n for kind in REGISTRY.values() for n in kind))
def test_every_format_is_documented(name):
    assert f"`{name}`" in FORMATS_DOC


@pytest.mark.parametrize("sdk", sorted(POLICIES))
def test_every_sdk_key_is_in_the_method_table(sdk):
    assert f"`{sdk}`" in METHOD_DOC


def test_every_make_target_is_in_the_readme():
    targets = re.findall(r"^## .*\n([a-z-]+):", (ROOT / "Makefile").read_text(), re.M)
    assert targets
    for target in targets:
        assert f"make {target}" in README, target


def test_the_scheduling_examples_are_valid_commands():
    """The CronJob manifest parses, and it and the cron line call options the CLI has."""
    import shlex

    import yaml

    from analysis import cli, fleet

    text = (ROOT / "docs" / "scheduling.md").read_text()
    manifest = yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))
    container = manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    cron = re.search(r"```cron\n.*\n(.*)\n```", text).group(1)
    in_cron = shlex.split(cron.split("&&", 1)[1].split(">>")[0])
    for command in (container["command"], in_cron):
        assert command[0].endswith("latency-gap")
        args = cli.parser().parse_args(command[1:])
        assert args.run is cli.cmd_fleet and args.gate
    for code in (fleet.EXIT_OK, fleet.EXIT_FAILED, fleet.EXIT_GATE):
        assert f"| {code} |" in text


def test_the_custom_format_examples_load_and_read_their_sample_lines(tmp_path):
    """Each service.yaml block of "Custom formats" compiles, and reads the sample after it."""
    from analysis.service import load_config

    section = FORMATS_DOC.split("### Custom formats")[1].split("\n## ")[0]
    examples = re.findall(r"```yaml\n(.*?)```\n\n```\n(.*?)```", section, re.S)
    assert [("nginx:" in y, "envoy:" in y) for y, _ in examples] == [(True, False),
                                                                     (False, True)]
    for yaml_text, sample in examples:
        (tmp_path / "service.yaml").write_text(yaml_text)
        fmt = load_config(tmp_path).formats["latency"]
        (tmp_path / "access.log").write_text(sample)
        parsed = fmt.parse(tmp_path / "access.log")
        assert parsed.rejected.empty and len(parsed.table) == sample.count("\n")
