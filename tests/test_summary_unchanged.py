"""A service without packet captures gives the summary.json it gave before captures fed the
analysis (issue 19, item 3): the three bundled examples' summaries, every number and word,
against the ones recorded before that change (tests/fixtures/summaries/, tool_version aside).

When a change to the analysis is meant to move these numbers, record them again:
    .venv/bin/python -m tests.test_summary_unchanged
and say in the commit why they moved."""

import json
import sys

import pytest

from analysis import result, summary
from tests.conftest import EXAMPLES, FIXTURES

RECORDED = FIXTURES / "summaries"
SERVICES = ("search-api", "payments-api", "listings-api")


def current(service: str) -> dict:
    """The example's summary as summary.json carries it (NaN as null), without the version."""
    said = summary.jsonable(result.compute(EXAMPLES / service).summary())
    said.pop("tool_version")
    return json.loads(json.dumps(said))  # tuples as lists, as the file has them


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_without_captures_gives_the_summary_it_gave_before(service):
    recorded = json.loads((RECORDED / f"{service}.json").read_text())
    now = current(service)
    assert "overhead_source" not in now
    assert now == recorded


if __name__ == "__main__":  # record them again (see above)
    for name in sys.argv[1:] or SERVICES:
        (RECORDED / f"{name}.json").write_text(json.dumps(current(name), indent=1,
                                                          sort_keys=True) + "\n")
