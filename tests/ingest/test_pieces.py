"""A large plain log is read as two pieces in parallel (reading.pieces): the result must be
the one reader's, line numbers included, whatever falls in the second piece."""

import pandas as pd
import pytest

from analysis.errors import EvidenceError
from analysis.ingest import reading
from analysis.ingest.ingress_nginx import IngressNginx

REAL = "real/latency/ingress-nginx-beats-ingress-controller-test.log"


def _parse_both(monkeypatch, path):
    one = IngressNginx().parse(path)
    monkeypatch.setattr(reading, "READERS", 2)
    monkeypatch.setattr(reading, "PIECE_BYTES", 1)  # every plain file splits in two
    two = IngressNginx().parse(path)
    return one, two


def _same(one, two):
    pd.testing.assert_frame_equal(one.table, two.table)
    pd.testing.assert_frame_equal(one.rejected, two.rejected)
    pd.testing.assert_frame_equal(one.skipped, two.skipped)
    assert one.lines == two.lines


def _log(tmp_path, fixture_path, extra_second_half: list[str]) -> str:
    lines = fixture_path(REAL).read_text().splitlines() * 20  # retries, IPv6, no upstream
    lines[3:3] = ["", "2026/11/24 10:00:01 [error] 31#31: *1 upstream timed out"]
    half = len(lines) // 2 + 7
    lines[half:half] = extra_second_half
    path = tmp_path / "access.log"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("extra", [
    [],
    ["", "not a log line", "2026/11/24 10:00:02 [error] 31#31: *2 connect() failed"],
    ['1.2.3.4 - - [07/Feb/2020:11:48:51 +0000] "GET "x HTTP/1.1" 200 59 "-" "-" 1 0.001 '
     "[a] [] 1.1.1.1:80 59 0.000 200 abc"],  # a stray quote: the line-exact path
])
def test_two_pieces_give_the_one_readers_result(tmp_path, fixture_path, monkeypatch, extra):
    path = _log(tmp_path, fixture_path, extra)
    assert len(reading.pieces(path)) == 1
    one, two = _parse_both(monkeypatch, path)
    assert len(reading.pieces(path)) == 2
    _same(one, two)
    assert one.lines == len(path.read_text().splitlines())


def test_pieces_split_at_line_ends_and_count_every_line(tmp_path, fixture_path, monkeypatch):
    path = _log(tmp_path, fixture_path, [])
    monkeypatch.setattr(reading, "READERS", 2)
    monkeypatch.setattr(reading, "PIECE_BYTES", 1)
    (_, middle), (start, end) = reading.pieces(path)
    data = path.read_bytes()
    assert middle == start and data[start - 1:start] == b"\n" and end == len(data)
    assert sum(reading.count_lines(path, *part) for part in reading.pieces(path)) == \
        reading.count_lines(path)


def test_mostly_garbage_in_the_second_piece_is_refused_as_before(tmp_path, fixture_path,
                                                                 monkeypatch):
    lines = fixture_path(REAL).read_text().splitlines() * 400
    path = tmp_path / "access.log"
    path.write_text("\n".join(lines + [f"junk {i}" for i in range(12_000)]) + "\n")
    errors = []
    monkeypatch.setattr(reading, "READERS", 2)
    for piece_bytes in (reading.PIECE_BYTES, 1):
        monkeypatch.setattr(reading, "PIECE_BYTES", piece_bytes)
        with pytest.raises(EvidenceError) as caught:
            IngressNginx().parse(path)
        errors.append(str(caught.value))
    assert errors[0] == errors[1] and "more than 5%" in errors[0]
