"""docs/cli.md is generated from --help and covers every command (as sqlite-utils does)."""

from analysis import cli_docs, config

CLI_MD = config.PROJECT_ROOT / "docs" / "cli.md"


def test_docs_cli_md_is_what_the_commands_help_says():
    assert CLI_MD.read_text() == cli_docs.render(), \
        f"docs/cli.md is out of date: run `{cli_docs.REGENERATE}`"


def test_every_command_has_a_section_with_its_usage():
    text = CLI_MD.read_text()
    names = cli_docs.commands()
    assert {"report", "preflight", "fleet", "collect"} <= set(names)
    for name in names:
        assert f"\n## latency-gap {name}\n" in text, \
            f"docs/cli.md has no section for {name}: run `{cli_docs.REGENERATE}`"
        assert "usage: " in cli_docs.help_text([name]), name


def test_the_help_does_not_depend_on_the_terminal_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    assert cli_docs.render() == CLI_MD.read_text()
