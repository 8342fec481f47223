"""``xllm analyze <name>``: run an analyzer plugin (scaling_law, similarity, allocator, alignment, ...).

The subcommands come from the registry (``xllm_analyzers`` hook), so a third-party analyzer shows
up here as soon as its package is installed.
"""

from __future__ import annotations

import argparse
import json
import sys

from xllm_harness.errors import XllmError


def register(sub) -> None:
    p = sub.add_parser("analyze", help="run an analyzer (scaling laws, similarity, allocation, alignment)")
    asub = p.add_subparsers(dest="analyzer", metavar="ANALYZER")
    asub.required = True
    try:
        from xllm_harness.analyzers import get_analyzers

        analyzers = get_analyzers()
    except Exception as err:  # a broken analyzer plugin must not take the whole CLI down
        p.set_defaults(func=lambda args, err=err: _broken(err))
        asub.required = False
        return
    for name, cls in sorted(analyzers.items()):
        analyzer = cls()
        module = sys.modules.get(cls.__module__)
        doc = (module.__doc__ if module is not None else None) or cls.help
        ap = asub.add_parser(
            name,
            help=cls.help,
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        analyzer.add_arguments(ap)
        ap.add_argument(
            "--output",
            "-o",
            default=f"analysis/{name}",
            help="folder for JSON, CSV and PNG outputs (default: %(default)s)",
        )
        ap.add_argument("--json", action="store_true", help="print the summary as JSON")
        ap.add_argument("--debug", action="store_true", help="show tracebacks")
        ap.set_defaults(func=lambda args, analyzer=analyzer: _run(analyzer, args))


def _broken(err: Exception) -> int:
    raise XllmError(f"analyzer plugins failed to load: {type(err).__name__}: {err} (see `xllm plugins`)")


def _run(analyzer, args: argparse.Namespace) -> int:
    summary = analyzer.run(args) or {}
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    else:
        for kind, path in (summary.get("files") or {}).items():
            print(f"wrote {kind}: {path}")
    return 0
