"""The ``xllm`` command line: user errors are one line and exit 2, bugs keep their traceback, help
is written for users."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from xllm_harness.cli import COMMANDS, build_parser, main
from xllm_harness.errors import InputError

OWNED = ["plugins", "tasks", "tasks-dir", "eval", "data", "demo", "train"]
DATA_ACTIONS = ["list", "fetch", "path", "build"]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_user_error_is_one_line_and_exit_2(capsys):
    assert main(["data", "fetch", "no-such-source"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xllm data: error: unknown data source 'no-such-source'")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_debug_shows_the_traceback_of_a_user_error(monkeypatch, capsys):
    def fails(args):
        raise InputError("bad value")

    monkeypatch.setattr("xllm_harness.commands.eval.run", fails)
    assert main(["eval", "--tasks", "x"]) == 2
    assert capsys.readouterr().err == "xllm eval: error: bad value\n"
    with pytest.raises(InputError, match="bad value"):
        main(["eval", "--tasks", "x", "--debug"])


def test_an_unexpected_exception_keeps_its_traceback(tmp_path, subprocess_env):
    """A bug (here a KeyError from inside a command) is never turned into a user message."""
    script = (
        "import sys\n"
        "import xllm_harness.commands.tasks as tasks\n"
        "def broken(args):\n"
        "    return {}['answers']\n"
        "tasks.run_list = broken\n"
        "from xllm_harness.cli import main\n"
        "sys.exit(main(['tasks']))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=subprocess_env, capture_output=True, text=True
    )
    assert out.returncode == 1
    assert "Traceback (most recent call last)" in out.stderr
    assert out.stderr.rstrip().endswith("KeyError: 'answers'")
    assert "xllm tasks: error" not in out.stderr


def test_top_level_help_describes_the_tool_and_lists_commands():
    text = build_parser().format_help()
    assert "x-LLaMA paper's multilingual evaluation and training" in text
    assert "Each subcommand lives in" not in text  # no developer note
    commands_section = text.split("commands:", 1)[1].split("start here:", 1)[0]
    for name in COMMANDS:
        lines = [line for line in commands_section.splitlines() if line.strip().startswith(f"{name} ")]
        assert lines, f"{name} is not listed with its one-line help"
    assert text.rstrip().splitlines()[-1].strip().startswith("xllm eval ")


@pytest.mark.parametrize("name", OWNED)
def test_owned_subcommand_help_has_description_defaults_and_example(name):
    parser = subcommands(build_parser())[name]
    text = parser.format_help()
    assert parser.description and len(parser.description) > 40
    assert "example" in (parser.epilog or "")
    last = text.rstrip().splitlines()[-1].strip()
    assert last.startswith(("xllm ", "lm_eval ", "XLLM_", "--device")), last


def test_defaults_are_shown():
    text = subcommands(build_parser())["demo"].format_help()
    assert "(default: demo_out)" in text and "(default: 8)" in text
    fetch = subcommands(subcommands(build_parser())["data"])["fetch"].format_help()
    assert "(default: 3)" in fetch


@pytest.mark.parametrize("path", [("train",), ("data", "build")])
def test_every_option_is_explained_with_its_default(path):
    """Each option of ``xllm train`` and ``xllm data build`` has a help text, and each real default
    (not a flag's False, not None) is printed as ``(default: X)`` beside it."""
    parser = build_parser()
    for name in path:
        parser = subcommands(parser)[name]
    text = " ".join(parser.format_help().split())  # the formatter wraps lines
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        assert action.help, f"{action.option_strings[0]} has no help text"
        if action.default not in (None, False, True):
            assert f"(default: {action.default})" in text, action.option_strings[0]


@pytest.mark.parametrize("action", DATA_ACTIONS)
def test_data_actions_have_examples(action):
    parser = subcommands(subcommands(build_parser())["data"])[action]
    assert parser.description and "example" in (parser.epilog or "")
