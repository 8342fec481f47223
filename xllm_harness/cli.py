"""``xllm``: the command line. Each subcommand lives in ``xllm_harness/commands/<name>.py`` and
exposes ``register(subparsers)``, which adds its parser and sets ``func`` to a ``(args) -> int``."""

from __future__ import annotations

import argparse
import importlib
import sys

from xllm_harness import __version__
from xllm_harness.errors import XllmError

COMMANDS = ["plugins", "tasks", "eval", "data", "judge", "train", "score", "analyze", "leaderboard", "demo"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xllm", description=__doc__.splitlines()[0].strip("`: "))
    parser.add_argument("--version", action="version", version=f"xllm-harness {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
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
