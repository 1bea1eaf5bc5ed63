"""Durations read from options and service.yaml, and written in sentences and figures."""

from datetime import timedelta

import pytest

from analysis import durations


@pytest.mark.parametrize("text, seconds", [("900", 900), ("15m", 900), ("1h", 3600),
                                           ("500ms", 0.5), ("1.5h", 5400)])
def test_seconds_reads_a_duration_as_people_write_it(text, seconds):
    assert durations.seconds(text) == seconds


@pytest.mark.parametrize("value, said", [
    (0, "0 min"), (59.4 * 60, "59 min"), (89 * 60, "89 min"),     # whole minutes under 90 min
    (90 * 60, "1.5 h"), (4 * 3600, "4 h"), (26.27 * 3600, "26.3 h"),  # hours, one decimal
    (timedelta(hours=6), "6 h"),
])
def test_span_rounds_a_measured_duration_one_way_everywhere(value, said):
    assert durations.span(value) == said

