"""The `latency-gap` command: help for every command, exit codes, and one-line errors."""

import json

import pytest

from analysis import __version__, cli_docs
from analysis.cli import main
from tests.conftest import EXAMPLES


@pytest.mark.parametrize("command", cli_docs.commands())
def test_every_command_answers_help_with_exit_0(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0 and "usage:" in capsys.readouterr().out


def test_version_and_unknown_commands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == \
        f"latency-gap {__version__}"
    with pytest.raises(SystemExit) as exit_:
        main(["no-such-command"])
    assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_the_example_names_for_help_are_the_simulators():
    from analysis import cli, simulate

    assert list(cli.EXAMPLES) == sorted(simulate.SCENARIOS)


def test_services_lists_the_service_folders(capsys):
    assert main(["services", "--data-dir", str(EXAMPLES)]) == 0
    assert capsys.readouterr().out.split() == ["listings-api", "orders-api", "payments-api",
                                               "search-api"]


def test_simulate_writes_an_example_and_never_overwrites_without_force(tmp_path, capsys):
    out = tmp_path / "data"
    assert main(["simulate", "--out", str(out), "--service", "payments-api"]) == 0
    assert f"wrote {out / 'payments-api'}" in capsys.readouterr().err
    assert (out / "payments-api" / "service.yaml").is_file()
    assert main(["simulate", "--out", str(out), "--service", "payments-api"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("latency-gap: error: payments-api already exist") and "--force" in err
    assert main(["simulate", "--out", str(out), "--service", "payments-api", "--force"]) == 0


def test_preflight_exits_1_on_a_blocker_and_0_without(capsys):
    assert main(["preflight", "--sdk", "aws-java-sdk-v1", "--provider", "kiam", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["blocked"] is True
    assert main(["preflight", "--sdk", "aws-java-sdk-v1", "--provider", "irsa", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["blocked"] is False


def test_a_bad_option_value_exits_2_naming_it(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["preflight", "--rate", "-1"])
    assert exit_.value.code == 2
    assert "--rate: expected a number above 0, got '-1'" in capsys.readouterr().err


def test_an_unknown_service_is_a_one_line_error_naming_the_ones_there(tmp_path, capsys):
    assert main(["report", "nope", "--data-dir", str(EXAMPLES),
                 "--reports-dir", str(tmp_path)]) == 1
    last = capsys.readouterr().err.splitlines()[-1]  # after the progress lines
    assert last.startswith("latency-gap: error: no service 'nope'") and "search-api" in last


#: each command and the library function of the same name that does its work
LIBRARY = {"report": ("analysis.pipeline", ["report", "search-api"]),
           "verdict": ("analysis.result", ["verdict", "search-api"]),
           "inspect": ("analysis.inspection", ["inspect", "data/search-api"]),
           "preflight": ("analysis.preflight", ["preflight", "--sdk", "botocore"]),
           "services": ("analysis.service", ["services"]),
           "simulate": ("analysis.simulate", ["simulate", "--out", "/nonexistent"]),
           "fleet": ("analysis.fleet", ["fleet"]),
           "collect": ("collector.collect", ["collect", "--help"]),
           "imds-emulator": ("collector.emulator", ["imds-emulator", "--help"])}


class _Called(Exception):
    pass


@pytest.mark.parametrize("command", cli_docs.commands())
def test_every_command_calls_the_library_function_of_its_name(command, monkeypatch):
    """The CLI only parses: `latency-gap X` hands its work to a library function X (the
    pass-through commands to their module's main)."""
    import importlib

    module, argv = LIBRARY[command]
    name = "main" if module.startswith("collector") else command

    def called(*args, **kwargs):
        raise _Called

    monkeypatch.setattr(importlib.import_module(module), name, called)
    with pytest.raises(_Called):
        main(argv)
