"""Documentation stays true to the code: each format, SDK key and make target is documented."""

import re

import pytest

from analysis import config
from analysis.ingest.base import REGISTRY
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
