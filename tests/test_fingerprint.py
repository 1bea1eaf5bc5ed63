"""Evidence fingerprints change when the evidence does, and only then."""

import os
import shutil

from analysis import __version__
from analysis.fingerprint import evidence_fingerprint, tool_fingerprint


def _folder(tmp_path):
    folder = tmp_path / "svc"
    (folder / "k8s" / "dig").mkdir(parents=True)
    (folder / "service.yaml").write_text("name: svc\n")
    (folder / "k8s" / "dig" / "dig.txt").write_text(";; Query time: 3 msec\n")
    return folder


def test_the_same_bytes_give_the_same_fingerprint_wherever_and_whenever(tmp_path):
    folder = _folder(tmp_path)
    before = evidence_fingerprint(folder)
    os.utime(folder / "service.yaml", (0, 0))  # a touched file is not new evidence
    copy = shutil.copytree(folder, tmp_path / "elsewhere" / "svc")
    assert evidence_fingerprint(folder) == before == evidence_fingerprint(copy)
    assert len(before) == 64


def test_editing_adding_removing_or_renaming_a_file_changes_it(tmp_path):
    folder = _folder(tmp_path)
    seen = {evidence_fingerprint(folder)}
    dig = folder / "k8s" / "dig" / "dig.txt"
    dig.write_text(";; Query time: 4 msec\n")
    seen.add(evidence_fingerprint(folder))
    (folder / "k8s" / "resolv.conf").write_text("options ndots:5\n")
    seen.add(evidence_fingerprint(folder))
    dig.rename(dig.with_name("dig2.txt"))
    seen.add(evidence_fingerprint(folder))
    (folder / "k8s" / "resolv.conf").unlink()
    seen.add(evidence_fingerprint(folder))
    assert len(seen) == 5


def test_the_tool_fingerprint_names_the_version_and_is_stable():
    first = tool_fingerprint()
    assert first.startswith(f"{__version__}+") and first == tool_fingerprint()
