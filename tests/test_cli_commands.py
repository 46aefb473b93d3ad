"""The command table: every command listed in `--help` has its module, its options and its help,
and the parser declares only the options of the command it was given."""

from __future__ import annotations

import importlib

import pytest

import cli
from commands import COMMANDS


def test_every_listed_command_has_a_module_with_options_and_a_run():
    for name in COMMANDS:
        module = importlib.import_module(f"commands.{name}")
        assert callable(module.add_options) and callable(module.run), name


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_explains_its_own_options(name, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([name, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: python cli.py {name}") and "--" in text.split("options:", 1)[1]


def test_the_top_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    assert all(f"    {name}" in text for name in COMMANDS)


def test_only_the_given_commands_options_are_declared():
    """Another command's options are not there (nor its imports): `diff --failure` is no option of diff."""
    parser = cli.build_parser("diff")
    args = parser.parse_args(["diff", "a.yaml", "b.yaml", "--markdown"])
    assert args.command == "diff" and args.markdown
    with pytest.raises(SystemExit):
        parser.parse_args(["diff", "a.yaml", "b.yaml", "--failure", "zone"])


def test_an_unknown_command_is_bad_input(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["simulat", "scenarios/checkout.yaml"])
    assert done.value.code == 2 and "invalid choice: 'simulat'" in capsys.readouterr().err
