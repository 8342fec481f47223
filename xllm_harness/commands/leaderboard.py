"""``xllm leaderboard``: tables per benchmark from lm-eval, ``xllm score`` and ``xllm judge`` outputs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xllm_harness.errors import InputError


def register(sub) -> None:
    p = sub.add_parser(
        "leaderboard",
        help="compare models: Markdown, CSV and HTML tables with the paper's rows",
        description="One table per task family and metric from lm-eval result folders (with xllm score and "
        "xllm judge outputs), intervals from the samples files, the paper's reported rows.",
        epilog="example:\n  xllm leaderboard runs/ -o board --name tiny-coit=CoIT --baseline tiny-untrained",
    )
    p.add_argument(
        "paths", nargs="+", type=Path, help="result folders (lm-eval --output_path, xllm score/judge)"
    )
    p.add_argument(
        "--output",
        "-o",
        type=Path,
        default=None,
        help="folder for leaderboard.{md,csv,html} and figures/ (each figure as SVG and PNG)",
    )
    p.add_argument(
        "--name",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="rename a model in every table (repeatable)",
    )
    p.add_argument("--no-reported", action="store_true", help="leave out the paper's reported rows")
    p.add_argument(
        "--baseline",
        default=None,
        metavar="NAME",
        help="mark cells significantly higher/lower than this model's (paired tests, Holm-adjusted)",
    )
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of --baseline")
    p.add_argument(
        "--no-intervals", action="store_true", help="skip the bootstrap intervals (and --baseline's tests)"
    )
    p.add_argument("--strict", action="store_true", help="a malformed result file is an error, not a warning")
    p.add_argument("--title", default="xllm-harness leaderboard", help="title of the HTML page")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from xllm_harness.leaderboard.board import (
        add_intervals,
        build_tables,
        collect,
        compare_to_baseline,
        consistency_tables,
        interval_notes,
        pairwise_table,
    )
    from xllm_harness.leaderboard.render import to_csv, to_html, to_markdown
    from xllm_harness.results.model_names import parse_aliases

    if not 0 < args.alpha < 1:
        raise InputError(f"--alpha {args.alpha}: give a level between 0 and 1 (e.g. 0.05)")
    if args.baseline and args.no_intervals:
        raise InputError("--baseline needs the per-item statistics: drop --no-intervals")
    if args.output is not None:  # before any file is read or interval computed; nothing created yet
        from xllm_harness.results.files import check_writable

        check_writable(args.output / "figures", "--output folder", create=False)

    def warn(message: str) -> None:
        print(f"xllm leaderboard: warning: {message}", file=sys.stderr)

    found = collect(args.paths, parse_aliases(args.name), strict=args.strict, warn=warn)
    if not args.no_intervals:
        add_intervals(found.scores)
    tables = build_tables(found.scores, include_reported=not args.no_reported)
    consistency = consistency_tables(args.paths, warn)
    if not any(not row.reported for table in tables for row in table.rows) and not (
        found.pairwise or consistency
    ):
        raise InputError(
            f"no results found under {', '.join(map(str, args.paths))} (expected lm-eval results_*.json, "
            "xllm_scores_*.json or judge_*.json files of a registered task family)"
        )
    if args.baseline:
        compare_to_baseline(tables, args.baseline, alpha=args.alpha)
    if not args.no_intervals:
        interval_notes(tables)
    tables += consistency
    mi_eval = pairwise_table(found.pairwise, intervals=not args.no_intervals)
    if mi_eval is not None:
        tables.append(mi_eval)
    base = args.output if args.output is not None else Path.cwd()
    markdown = to_markdown(tables, found.notes, base=base)
    print(markdown)
    if args.output is not None:
        from xllm_harness.leaderboard.figures import write_figures
        from xllm_harness.results.reports import write_leaderboard

        html = to_html(tables, args.title, found.notes, base=base)
        write_leaderboard(args.output, markdown, to_csv(tables), html)
        figures = write_figures(tables, args.output / "figures")
        print(
            f"wrote {args.output}/leaderboard.{{md,csv,html}} and {len(figures)} figure files in "
            f"{args.output / 'figures'}",
            file=sys.stderr,
        )
    return 0
