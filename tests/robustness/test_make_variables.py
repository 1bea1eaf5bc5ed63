"""Make variables are data: a shell or make metacharacter in any variable a recipe uses runs
nothing, from the command line or the environment, and reaches the command verbatim.

The recipes run a recording stand-in for the venv's programs (VENV=), so each case costs a
make invocation, not a report."""

import os
import shlex

import pytest

from tests.robustness.conftest import TALLY
from tests.test_make import make, recorded, recording_venv

#: each is formatted with {m}, a marker file that exists only if something ran it
PAYLOADS = ["`touch {m}`", "$(touch {m})", "$(shell touch {m})", "${{shell touch {m}}}",
            "$$(touch {m})", "$(eval $(shell touch {m}))", "'; touch {m}; '", '"; touch {m}; "',
            "x; touch {m}", "x | touch {m}", "x && touch {m}", "x\ntouch {m}", "x > {m}",
            "x #; touch {m}", "\\\"; touch {m} #"]


@pytest.fixture
def sandbox(tmp_path):
    """A recording venv, stand-ins for the programs `make test` checks for, and a marker."""
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for program in ("chromium", "dnsmasq", "dig"):
        (stubs / program).write_text("#!/bin/sh\n")
        (stubs / program).chmod(0o755)
    record = tmp_path / "calls.jsonl"
    env = {"LG_RECORD": str(record), "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}"}

    def run(target, variables, origin="command line", venv=None):
        if venv is None:
            venv = tmp_path / "venv"
            if not venv.exists():
                recording_venv(venv)
        settings = {"VENV": str(venv), **variables}
        if origin == "environment":
            return make(target, **env, **settings), record
        return make(target, *(f"{k}={v}" for k, v in settings.items()), **env), record
    return run, tmp_path / "pwned"


TARGETS = {
    "report": (["SERVICE", "DATA_DIR", "REPORTS_DIR", "CODE", "FORMAT"],
               lambda p: ["report", p, "--data-dir", p, "--reports-dir", p]),
    "fleet": (["DATA_DIR", "REPORTS_DIR", "SERVICES", "JOBS", "EXECUTOR", "SCHEDULER", "GATE",
               "FORCE"],
              lambda p: ["fleet", "--data-dir", p, "--reports-dir", p, "--services", p,
                         "--jobs", p, "--executor", p, "--scheduler", p]),
    "services": (["DATA_DIR"], lambda p: ["services", "--data-dir", p]),
}


@pytest.mark.parametrize("origin", ["command line", "environment"])
@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_variable_reaches_the_command_verbatim_and_runs_nothing(sandbox, target, payload,
                                                                  origin):
    run, marker = sandbox
    value = payload.format(m=marker)
    names, expected = TARGETS[target]
    done, record = run(target, dict.fromkeys(names, value), origin)
    assert done.returncode == 0, done.stderr
    assert not marker.exists(), f"{target}: {value!r} ran as code"
    assert [c["argv"] for c in recorded(record)] == [expected(value)]
    TALLY["injections"] += len(names)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_pytest_args_are_options_for_pytest_not_shell(sandbox, payload):
    run, marker = sandbox
    value = payload.format(m=marker)
    done, record = run("test", {"PYTEST_ARGS": value})
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    lint, pytest_call = recorded(record)
    assert lint["argv"][:2] == ["check", "analysis"]
    assert pytest_call["argv"] == ["-m", "pytest"]
    assert pytest_call["addopts"].startswith(value)  # pytest splits it as a shell would
    TALLY["injections"] += 1


def test_pytest_args_still_select_tests(sandbox):
    run, _ = sandbox
    done, record = run("test", {"PYTEST_ARGS": '-x -k "not slow" tests/test_make.py'})
    assert done.returncode == 0, done.stderr
    assert shlex.split(recorded(record)[1]["addopts"]) == ["-x", "-k", "not slow",
                                                         "tests/test_make.py"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_python_is_a_program_name_not_shell(sandbox, tmp_path, payload):
    """PYTHON is only used to create a missing venv: that fails, and runs nothing else."""
    run, marker = sandbox
    empty = tmp_path / "empty-venv"
    empty.mkdir()
    done, _ = run("setup", {"PYTHON": payload.format(m=marker)}, venv=empty)
    assert done.returncode != 0
    assert not marker.exists()
    TALLY["injections"] += 1


# make splits target names at spaces (the venv's stamp is one): ${IFS} stands for a space;
# a ";" or "|" in one is make syntax, which make refuses (nothing runs either)
VENV_PAYLOADS = ["v`touch${{IFS}}{m}`", "v$(touch${{IFS}}{m})", "v'\"&&touch${{IFS}}{m}",
                 "v|touch${{IFS}}{m}", "v;touch${{IFS}}{m}"]


@pytest.mark.parametrize("origin", ["command line", "environment"])
@pytest.mark.parametrize("payload", VENV_PAYLOADS)
def test_venv_is_a_path_not_shell(sandbox, tmp_path, payload, origin):
    run, marker = sandbox
    venv = recording_venv(tmp_path / payload.format(m=marker))  # nested folders, one path
    done, record = run("report", {"SERVICE": "search-api"}, origin, venv=venv)
    assert not marker.exists()
    if set(";|") & set(payload):
        assert done.returncode != 0 and not recorded(record)
    else:
        assert done.returncode == 0, done.stderr
        assert [c["argv"] for c in recorded(record)] == [["report", "search-api"]]
    TALLY["injections"] += 1
