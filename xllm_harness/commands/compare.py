"""``xllm compare A B``: paired significance tests of two systems' lm-eval outputs (docs/compare.md)."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Is system B really better than system A? Paired tests per task and metric on the same documents of
two lm-eval output folders (written with --log_samples), Holm-adjusted over the run. QA questions on
one paragraph are resampled together (paired cluster bootstrap, design effect in the output); every
row reports the minimum difference detectable at 80 % power at the two-sided level --alpha, and with
--difference the items a planned comparison needs. Writes compare_<timestamp>.json beside A."""
EPILOG = """\
examples:
  xllm compare results/alpaca-7b results/x-llama-7b
  xllm compare A B --tasks 'flores_xllm_en-*' --metrics spbleu,chrf --alpha 0.1
  xllm compare A B --tasks 'xquad_xllm_*' --difference 0.02     # items needed to detect +2 points
  xllm compare A B --metrics comet --comet-model /models/wmt22-comet-da"""


def register(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="is B really better than A? paired tests per task and metric, Holm-adjusted",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    p.add_argument(
        "a",
        help="system A (the baseline): an lm-eval --output_path written with --log_samples, or one run's "
        "results_<timestamp>.json",
    )
    p.add_argument("b", help="system B: the same tasks, same documents (a folder or a results file)")
    p.add_argument(
        "--run-a",
        default=None,
        metavar="TIMESTAMP",
        help="which run of A's folder to compare when it holds several (lm-eval writes every run of a model "
        "into one folder): the timestamp of its results_<timestamp>.json, or that file's name",
    )
    p.add_argument("--run-b", default=None, metavar="TIMESTAMP", help="which run of B's folder (as --run-a)")
    p.add_argument(
        "--metrics",
        default=None,
        help="comma-separated metrics (default: the task family's metrics that need no model, COMET/BLEURT "
        "where `xllm score` recorded their statistics for both, judge_accuracy/judge_pairwise where judge "
        "results are beside the samples)",
    )
    p.add_argument("--tasks", default=None, help="comma-separated task names or globs (default: all common)")
    p.add_argument("--resamples", type=int, default=1000, help="paired bootstrap resamples (default: 1000)")
    p.add_argument("--seed", type=int, default=12345, help="resampling seed (default: 12345, as sacrebleu)")
    p.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        help="significance level after Holm; also the two-sided level of the minimum detectable difference "
        "(default: 0.05)",
    )
    p.add_argument(
        "--clusters",
        choices=["paragraph", "none"],
        default="paragraph",
        help="resample QA questions by paragraph (the document's context), or item by item",
    )
    p.add_argument(
        "--difference",
        type=float,
        default=None,
        metavar="D",
        help="a planned difference on the metric's scale (0.02 = 2 points of a 0-1 score): print the items "
        "each comparison needs to detect it with 80%% power",
    )
    p.add_argument("--comet-model", "--comet_model", default=None, help="recompute COMET with this model")
    p.add_argument("--bleurt-model", "--bleurt_model", default=None, help="recompute BLEURT with this model")
    p.add_argument("--batch-size", "--batch_size", type=int, default=None, help="COMET/BLEURT batch size")
    p.add_argument("--device", default=None, help="device of COMET/BLEURT (default: cuda:0 if present)")
    p.add_argument("--filter", default=None, help="lm-eval filter whose responses to compare (default: none)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=run)


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def run(args: argparse.Namespace) -> int:
    from xllm_harness.analysis.compare import (
        Plan,
        choose_runs,
        compare,
        disagreement_lines,
        report,
        table,
        write_report,
    )
    from xllm_harness.errors import InputError
    from xllm_harness.results.files import check_writable

    if args.resamples < 1:
        raise InputError(f"--resamples must be at least 1, got {args.resamples}")
    run_a, run_b = choose_runs(args.a, args.b, args.run_a, args.run_b)
    check_writable(run_a.folder, "A's folder (the report goes beside its samples)")
    models = {"batch_size": args.batch_size, "device": args.device}
    plan = Plan(
        metrics=_split(args.metrics),
        options={
            "comet": {"model": args.comet_model, **models},
            "bleurt": {"model": args.bleurt_model, **models},
            "cometkiwi": models,
            "xcomet": models,
        },
        recompute={
            name for name, given in (("comet", args.comet_model), ("bleurt", args.bleurt_model)) if given
        },
    )
    skipped: list[dict[str, str]] = []
    rows = compare(
        run_a,
        run_b,
        plan,
        _split(args.tasks),
        args.resamples,
        args.seed,
        args.alpha,
        args.filter,
        skipped=skipped,
        clusters=args.clusters == "paragraph",
        difference=args.difference,
    )
    payload = report(
        args.a, args.b, rows, args.alpha, args.resamples, args.seed, skipped, args.difference, (run_a, run_b)
    )
    path = write_report(run_a, payload)
    print(table(rows))
    for entry in skipped:
        print(f"{entry['task']} {entry['metric']}: not compared ({entry['reason']})")
    significant = sum(r.significant for r in rows)
    print(
        f"\n{significant} of {len(rows)} differences significant at alpha={args.alpha} after Holm-Bonferroni "
        f"({args.resamples} paired resamples, seed {args.seed}); delta = B - A"
    )
    for line in disagreement_lines(payload["disagreements"]):
        print(line)
    print(
        f"MDE: the smallest true difference detected with 80% power at two-sided alpha={args.alpha}; "
        "deff: design effect of paragraph clustering (QA)"
    )
    print(f"wrote {path}")
    return 0
