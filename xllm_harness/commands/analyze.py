"""``xllm analyze <name>``: run an analyzer plugin (scaling_law, similarity, allocator, alignment, ...).

The subcommands come from the registry (``xllm_analyzers`` hook), so a third-party analyzer shows
up here as soon as its package is installed. Each analyzer's help page shows its ``description``,
every option's default (the CLI's help formatter) and its ``example`` (see
:mod:`xllm_harness.analyzers`). Each analyzer's options are the fields of its ``Options`` dataclass;
this module turns them into command-line options and the parsed command line into an ``Options``
object, which is all the analyzer sees.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any

from xllm_harness.errors import XllmError, unknown_name

DESCRIPTION = """\
Run an analysis of the paper's section 3 on your own measurements or model: language similarity
(gamma), scaling-law fits, the budgeted data allocator, representation alignment, and whatever
analyzer plugins add. Each writes JSON, CSV and PNG files into --output (default analysis/NAME);
'xllm analyze NAME --help' describes one."""
EXAMPLE = """\
example (the paper's pipeline):
  xllm analyze similarity --model path/to/model -o analysis/similarity
  xllm analyze scaling_law --points points.csv --gamma analysis/similarity/similarity.json
  xllm analyze allocator --laws analysis/scaling_law/laws.json --budget 300k --budget 1.2M
  xllm train --allocation analysis/allocator/allocation_300000.json ..."""


class AnalyzerChoice(argparse._SubParsersAction):
    """The analyzer subcommands; an unknown name is an error with a "did you mean"."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.choices = None  # checked in __call__, where the message can suggest a name

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        if values and values[0] not in self._name_parser_map:
            error = unknown_name("analyzer", values[0], self._name_parser_map, "See 'xllm analyze --help'.")
            raise argparse.ArgumentError(self, str(error))
        super().__call__(parser, namespace, values, option_string)


def register(sub) -> None:
    p = sub.add_parser(
        "analyze",
        help="run an analyzer (scaling laws, similarity, allocation, alignment)",
        description=DESCRIPTION,
        epilog=EXAMPLE,
    )
    asub = p.add_subparsers(dest="analyzer", metavar="ANALYZER", action=AnalyzerChoice)
    asub.required = True
    try:
        from xllm_harness.analyzers import get_analyzers

        analyzers = get_analyzers()
    except XllmError as err:  # two plugins claiming one name must not take the whole CLI down
        p.set_defaults(func=lambda args, err=err: _broken(err))
        asub.required = False
        return
    for name, cls in sorted(analyzers.items()):
        analyzer = cls()
        ap = asub.add_parser(
            name,
            help=cls.help,
            description=getattr(cls, "description", "") or cls.help,
            epilog=getattr(cls, "example", "") or None,
        )
        for field in _option_fields(cls.Options):
            _add_option(ap, field, typing.get_type_hints(cls.Options)[field.name])
        ap.add_argument(
            "--output", "-o", default=f"analysis/{name}", help="folder for JSON, CSV and PNG outputs"
        )
        ap.add_argument("--json", action="store_true", help="print the summary as JSON")
        ap.add_argument("--debug", action="store_true", help="show tracebacks")
        ap.set_defaults(func=lambda args, analyzer=analyzer: _run(analyzer, args))


def _option_fields(options: type) -> list[dataclasses.Field]:
    """The fields of an ``Options`` dataclass that are command-line options (made by ``option``)."""
    return [f for f in dataclasses.fields(options) if "help" in f.metadata]


def _add_option(parser: argparse.ArgumentParser, field: dataclasses.Field, hint: Any) -> None:
    """``--field-name`` for one option field: its type, default, choices, help and whether it repeats."""
    flag = "--" + field.name.replace("_", "-")
    meta = field.metadata
    kwargs: dict[str, Any] = {"help": meta["help"], "dest": field.name}
    if meta.get("choices"):
        kwargs["choices"] = list(meta["choices"])
    if meta.get("metavar"):
        kwargs["metavar"] = meta["metavar"]
    if field.default is dataclasses.MISSING:
        kwargs["required"] = True
    else:
        kwargs["default"] = field.default
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    kind = args[0] if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1 else hint
    if kind is bool:
        kwargs["action"] = "store_true"
        kwargs.pop("default", None)
    elif typing.get_origin(kind) is tuple:
        kwargs["action"] = "append"
    elif kind in (int, float):
        kwargs["type"] = kind
    parser.add_argument(flag, **kwargs)


def _options(analyzer, args: argparse.Namespace):
    """The analyzer's ``Options`` object from the parsed command line."""
    values = {f.name: getattr(args, f.name) for f in _option_fields(analyzer.Options)}
    values = {name: tuple(v) if isinstance(v, list) else v for name, v in values.items()}
    return analyzer.Options(output=Path(args.output), **values)


def _broken(err: Exception) -> int:
    raise XllmError(f"analyzer plugins failed to load: {err} (see `xllm plugins`)")


def _run(analyzer, args: argparse.Namespace) -> int:
    output = Path(args.output)
    existed = output.exists()
    try:
        summary = analyzer.run(_options(analyzer, args)) or {}
    except XllmError:
        if not existed and output.is_dir() and not any(output.iterdir()):
            output.rmdir()  # refused input leaves no empty output folder behind
        raise
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    else:
        for kind, path in (summary.get("files") or {}).items():
            print(f"wrote {kind}: {path}")
    return 0
