"""``xllm score``: rescore lm-eval ``--log_samples`` output with metric plugins (COMET, BLEURT...).

The evaluated model is not loaded, so neural metrics never share GPU memory with it. Results go
beside lm-eval's own files as ``<model dir>/xllm_scores_<timestamp>.json``, one per run (docs/translation.md).
"""

from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "score",
        help="rescore saved lm-eval samples (--log_samples) with metric plugins",
        description="Score every run under an lm-eval --output_path (a results_<timestamp>.json and the samples "
        "files of its timestamp) with metric plugins (COMET, BLEURT, spBLEU...), without loading the evaluated "
        "model. Writes one xllm_scores_<timestamp>.json per run beside lm-eval's files, with per-document "
        "statistics for the leaderboard's intervals.",
        epilog="example:\n  xllm score out/ --metrics spbleu,comet --comet-model Unbabel/wmt22-comet-da",
    )
    p.add_argument("output_path", help="lm-eval --output_path folder (or one model folder inside it)")
    p.add_argument(
        "--metrics",
        default=None,
        help="comma-separated metric plugins (default: the metrics of each task's family that are registered "
        "plugins, e.g. spbleu,chrf,comet,bleurt for flores_xllm_*, match,exact_match,f1 for xquad/mlqa); "
        "`xllm plugins` lists them",
    )
    p.add_argument("--tasks", default=None, help="comma-separated task names or globs (default: all)")
    p.add_argument("--comet-model", "--comet_model", default=None, help="COMET hub id, folder or .ckpt")
    p.add_argument("--bleurt-model", "--bleurt_model", default=None, help="BLEURT hub id or folder")
    p.add_argument("--batch-size", "--batch_size", type=int, default=None, help="COMET/BLEURT batch size")
    p.add_argument(
        "--device", default=None, help="device of COMET/BLEURT (default: cuda:0 if present, else cpu)"
    )
    p.add_argument("--filter", default=None, help="lm-eval filter whose responses to score (default: none)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=run)


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from xllm_harness.errors import MissingDependencyError
    from xllm_harness.scoring import score_folder

    model_opts = {"batch_size": args.batch_size, "device": args.device}
    options = {
        "comet": {"model": args.comet_model, **model_opts},
        "cometkiwi": model_opts,
        "xcomet": model_opts,
        "bleurt": {"model": args.bleurt_model, **model_opts},
    }
    written = score_folder(
        Path(args.output_path),
        metrics=_split(args.metrics),
        tasks=_split(args.tasks),
        options=options,
        filter_name=args.filter,
    )
    payloads = {path: json.loads(path.read_text(encoding="utf-8")) for path in written}
    if not any(p["results"] for p in payloads.values()):  # nothing could be scored: leave no empty files
        for path in written:
            path.unlink()
        failed: dict[tuple[str, str], list[str]] = {}
        for payload in payloads.values():
            for task, per_metric in payload.get("errors", {}).items():
                for metric, message in per_metric.items():
                    failed.setdefault((metric, message), []).append(task)
        reasons = [f"{metric} ({', '.join(tasks)}): {message}" for (metric, message), tasks in failed.items()]
        raise MissingDependencyError("nothing scored: " + " | ".join(reasons or ["no metric applies"]))
    problems: dict[tuple[str, str], list[str]] = {}
    for path, payload in payloads.items():
        print(f"wrote {path}")
        errors = payload.get("errors", {})
        for task, per_metric in errors.items():
            for metric, message in per_metric.items():
                problems.setdefault((metric, message), []).append(task)
    # a metric the user asked for is an error; one of the family's defaults that cannot run is a note
    level = "error" if args.metrics else "note"
    for payload in payloads.values():  # scored, but outside what the metric's model knows
        for task, per_metric in payload.get("warnings", {}).items():
            for message in per_metric.values():
                print(f"xllm score: warning: {task}: {message}", file=sys.stderr)
    for (metric, message), tasks in problems.items():
        print(f"xllm score: {level}: {metric} not scored ({', '.join(tasks)}): {message}", file=sys.stderr)
    if problems:
        print(
            "xllm score: the metrics above are recorded under 'errors' with their reason; the leaderboard "
            "shows them as missing. Fix the cause and rerun with --metrics to add them.",
            file=sys.stderr,
        )
    return 1 if problems and args.metrics else 0
