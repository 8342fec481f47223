"""``xllm demo``: train, evaluate and compare tiny models on the bundled samples (no download)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("demo", help="the whole pipeline on a tiny model and bundled samples, offline")
    p.add_argument("--output", "-o", type=Path, default=Path("demo_out"), help="where everything is written")
    p.add_argument("--limit", type=int, default=8, help="documents per task")
    p.add_argument("--max-steps", type=int, default=60, help="training steps")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from xllm_harness.demo import run_demo

    run_demo(args.output, limit=args.limit, max_steps=args.max_steps)
    return 0
