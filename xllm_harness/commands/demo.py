"""``xllm demo``: train, evaluate and compare tiny models on the bundled samples (no download)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xllm_harness.demo import DEFAULT_LIMIT, DEFAULT_STEPS

DESCRIPTION = """\
The paper's pipeline end to end, offline, in about one CPU-minute (benchmarks/bench_demo.py): build
a tiny Llama with random weights, CoIT-train a copy with `xllm train` on bundled Alpaca and
English->X translation samples, evaluate both with `xllm eval` on XQuAD and FLORES-101 samples, and
write the leaderboard. It ends with what moved (training loss, chrF++) and what did not (QA, and
why), and the commands that evaluate a real model, and names the leaderboard page (--open opens it).
One line per stage with its time; each step's output goes to OUTPUT/logs/ (-v shows it instead)."""
EPILOG = """\
examples:
  xllm demo
  xllm demo -o /tmp/demo --limit 4 --max-steps 20 -v"""


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="the whole pipeline on a tiny model and bundled samples, offline",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    p.add_argument("--output", "-o", type=Path, default=Path("demo_out"), help="where everything is written")
    p.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="documents per task")
    p.add_argument("--max-steps", type=int, default=DEFAULT_STEPS, help="training steps")
    p.add_argument("--open", action="store_true", help="open the leaderboard page in a browser at the end")
    p.add_argument("-v", "--verbose", action="store_true", help="show each step's own output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from xllm_harness.demo import run_demo

    result = run_demo(args.output, limit=args.limit, max_steps=args.max_steps, verbose=args.verbose)
    print(result.summary)
    page = result.page.as_uri()
    print(f"\ndemo finished in {result.seconds:.0f} s; the leaderboard page: {page}", file=sys.stderr)
    if args.open:
        import webbrowser

        webbrowser.open(page)
    return 0
