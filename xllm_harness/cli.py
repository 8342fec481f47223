"""``xllm``: the command line.

Each subcommand lives in ``xllm_harness/commands/<name>.py`` and exposes ``register(subparsers)``,
which adds its parser (with a description, its defaults shown and an example at the end) and sets
``func`` to a ``(args) -> int``. Errors a user can fix (:class:`~xllm_harness.errors.XllmError`)
become one line and exit code 2; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys

from xllm_harness import __version__
from xllm_harness.errors import XllmError

COMMANDS = [
    "plugins",
    "tasks",
    "eval",
    "data",
    "judge",
    "train",
    "score",
    "analyze",
    "leaderboard",
    "demo",
    "compare",
    "consistency",
]
DESCRIPTION = """\
xllm-harness: the x-LLaMA paper's multilingual evaluation and training on top of EleutherAI's
lm-evaluation-harness. Evaluate any Hugging Face model on XQuAD, MLQA, FLORES-101 and MI-Eval with
the paper's prompts and metrics, rescore, judge with an LLM, compare models on a leaderboard,
fit the paper's scaling law, and CoIT/MuIT-train with accelerate. Every language, task, metric,
judge and analyzer comes from a plugin (`xllm plugins`)."""
EPILOG = """\
start here:
  xllm demo                       the whole pipeline on a tiny model, offline, in a few minutes
  xllm COMMAND --help             what a command does, its options and defaults, an example

example:
  xllm eval --model_args pretrained=MODEL --tasks xquad_xllm --output_path results/ --log_samples"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples keep their line breaks; each option shows its default when it has one.
    Off a terminal the text is 100 columns wide (argparse would take 80)."""

    def __init__(self, prog: str, **kwargs) -> None:
        kwargs.setdefault("width", shutil.get_terminal_size((100, 24)).columns - 2)
        kwargs.setdefault("max_help_position", 30)
        super().__init__(prog, **kwargs)

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        names = (
            [a.dest for a in action._get_subactions()]
            if isinstance(action, argparse._SubParsersAction)
            else []
        )
        if names:  # subcommands are listed two columns deeper
            longest = max(len(name) for name in names) + self._current_indent + 2
            self._action_max_length = max(self._action_max_length, longest)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            action.option_strings
            and "%(default)" not in text
            and "default" not in text.lower()
            and not _no_default(default)
        ):
            text += " (default: %(default)s)"
        return text


def _no_default(value: object) -> bool:
    """Nothing worth showing: ``None``, a flag's ``False``/``True``, an empty list, or suppressed
    (identity checks: ``0`` and ``1.0`` are real defaults)."""
    return value is None or value is False or value is True or value is argparse.SUPPRESS or value == []


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with :class:`HelpFormatter` unless a command picks another."""

    def __init__(self, *args, formatter_class=HelpFormatter, **kwargs) -> None:
        super().__init__(*args, formatter_class=formatter_class, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="xllm", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"xllm-harness {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"xllm_harness.commands.{name.replace('-', '_')}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except XllmError as err:  # an error the user can fix; anything else is a bug and keeps its traceback
        if getattr(args, "debug", False):
            raise
        print(f"xllm {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
