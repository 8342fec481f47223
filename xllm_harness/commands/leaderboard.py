"""``xllm leaderboard``: tables per benchmark from lm-eval, ``xllm score`` and ``xllm judge`` outputs."""

from __future__ import annotations

import argparse
from pathlib import Path

from xllm_harness.errors import InputError


def register(sub) -> None:
    p = sub.add_parser(
        "leaderboard", help="compare models: Markdown, CSV and HTML tables with the paper's rows"
    )
    p.add_argument(
        "paths", nargs="+", type=Path, help="result folders (lm-eval --output_path, xllm score/judge)"
    )
    p.add_argument("--output", "-o", type=Path, default=None, help="folder for leaderboard.{md,csv,html}")
    p.add_argument(
        "--name", action="append", default=[], metavar="OLD=NEW", help="rename a model (repeatable)"
    )
    p.add_argument("--no-reported", action="store_true", help="leave out the paper's reported rows")
    p.add_argument("--title", default="xllm-harness leaderboard")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from xllm_harness.leaderboard import build_tables, collect, pairwise_table
    from xllm_harness.leaderboard_render import to_csv, to_html, to_markdown

    aliases = {}
    for item in args.name:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            raise InputError(f"--name {item!r}: expected OLD=NEW")
        aliases[old] = new
    scores, comparisons = collect(args.paths, aliases)
    tables = build_tables(scores, include_reported=not args.no_reported)
    mi_eval = pairwise_table(comparisons)
    if mi_eval is not None:
        tables.append(mi_eval)
    if not any(not row.reported for table in tables for row in table.rows):
        raise InputError(
            f"no results found under {', '.join(map(str, args.paths))} (expected results_*.json files)"
        )
    markdown = to_markdown(tables)
    print(markdown)
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        (args.output / "leaderboard.md").write_text(markdown, encoding="utf-8")
        (args.output / "leaderboard.csv").write_text(to_csv(tables), encoding="utf-8")
        (args.output / "leaderboard.html").write_text(to_html(tables, args.title), encoding="utf-8")
        print(f"wrote {args.output}/leaderboard.{{md,csv,html}}")
    return 0
