"""``xllm consistency RUN...``: is a model right on the same items in English and in each language?"""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = """\
Cross-lingual consistency on parallel benchmarks (XQuAD: the same question id in every language;
MI-Eval). For each model, task family and language X paired with the family's English task: items
right in both, right only in English, right only in X, wrong in both; the share right in X among the
items right in English, Cohen's kappa with a paragraph-bootstrap interval, and the share right in
both beside what independence would give. Outcomes from a 0/1 metric of the samples (--metric) and,
where `xllm judge qa` results are beside the samples, from the judge's verdicts. Writes JSON."""
EPILOG = """\
examples:
  xllm consistency results/x-llama-7b results/alpaca-7b -o consistency.json
  xllm consistency runs/ --metric exact_match --no-judge"""


def register(sub) -> None:
    p = sub.add_parser(
        "consistency",
        help="cross-lingual consistency: right on the same items in English and in X?",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    p.add_argument("runs", nargs="+", type=Path, help="lm-eval output folders written with --log_samples")
    p.add_argument("--metric", default="match", help="0/1 metric deciding right or wrong per item")
    p.add_argument("--no-judge", action="store_true", help="ignore xllm judge qa verdicts beside the samples")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples of kappa's interval")
    p.add_argument("--seed", type=int, default=12345, help="resampling seed")
    p.add_argument("--output", "-o", type=Path, default=None, help="JSON file to write (default: print only)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from xllm_harness.analysis.consistency import consistency, consistency_matrix, table
    from xllm_harness.errors import InputError
    from xllm_harness.results.files import check_writable, json_safe, write_json

    if args.resamples < 1:
        raise InputError(f"--resamples must be at least 1, got {args.resamples}")
    if args.output is not None:  # before the resampling
        check_writable(args.output.parent, "--output folder", create=False)
    results = consistency(args.runs, args.metric, not args.no_judge, args.resamples, seed=args.seed)
    print(table(results))
    if args.output is not None:
        payload = {
            "runs": [str(r.resolve()) for r in args.runs],
            "metric": args.metric,
            "resamples": args.resamples,
            "seed": args.seed,
            "pairs": [r.to_dict() for r in results],
            "matrix": consistency_matrix(results),
        }
        print(f"wrote {write_json(args.output, json_safe(payload))}")
    return 0
