"""``xllm eval``: lm-eval's ``simple_evaluate`` in-process over our task folders only.

Takes the lm-eval options users know and writes the same output layout (results JSON, and per-task
samples with ``--log_samples``), so ``xllm score``, ``xllm judge`` and ``xllm leaderboard`` read both.
It skips the indexing of lm-eval's ~13k built-in tasks; ``--include_defaults`` brings them back.
"""

from __future__ import annotations

import argparse
import json

from xllm_harness.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("eval", help="run lm-eval in-process on xllm tasks (fast route)")
    p.add_argument("--model", default="hf", help="lm-eval model type (hf, vllm, local-completions, ...)")
    p.add_argument("--model_args", "--model-args", default="", help="e.g. pretrained=DIR,dtype=bfloat16")
    p.add_argument("--tasks", required=True, help="comma-separated task or group names (xllm tasks)")
    p.add_argument("--limit", type=float, default=None, help="documents per task (int) or fraction (<1)")
    p.add_argument("--num_fewshot", "--num-fewshot", type=int, default=None)
    p.add_argument("--batch_size", "--batch-size", default="1", help="int or 'auto'")
    p.add_argument("--device", default=None, help="cuda, cuda:0, cpu, mps")
    p.add_argument(
        "--output_path", "--output-path", "-o", default=None, help="folder for results (and samples)"
    )
    p.add_argument("--log_samples", "--log-samples", action="store_true", help="save per-document outputs")
    p.add_argument("--seed", type=int, default=1234, help="random, numpy, torch and few-shot seed")
    p.add_argument("--gen_kwargs", "--gen-kwargs", default=None, help="e.g. max_gen_toks=128")
    p.add_argument("--apply_chat_template", "--apply-chat-template", action="store_true")
    p.add_argument(
        "--metadata",
        default=None,
        help='JSON passed to every task, e.g. \'{"metrics": "spbleu,chrf,comet"}\'',
    )
    p.add_argument("--include_defaults", action="store_true", help="also index lm-eval's built-in tasks")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=run)


def _parse_limit(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value >= 1 else value


def run(args: argparse.Namespace) -> int:
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.utils import handle_non_serializable, make_table

    from xllm_harness.lm_eval_bridge import task_manager

    if args.log_samples and not args.output_path:
        raise InputError("--log_samples needs --output_path (where to write the samples)")
    metadata = None
    if args.metadata:
        try:
            metadata = json.loads(args.metadata)
        except ValueError as err:
            raise InputError(f"--metadata is not valid JSON ({err}): {args.metadata!r}") from None
        if not isinstance(metadata, dict):
            raise InputError(f"--metadata must be a JSON object, got {args.metadata!r}")
    tm = task_manager(include_defaults=args.include_defaults, metadata=metadata)
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in tasks if t not in tm.all_tasks]
    if unknown:
        raise InputError(f"--tasks: unknown task(s) {', '.join(unknown)}; `xllm tasks` lists them")
    tracker = EvaluationTracker(output_path=args.output_path) if args.output_path else None
    results = simple_evaluate(
        model=args.model,
        model_args=args.model_args,
        tasks=tasks,
        num_fewshot=args.num_fewshot,
        batch_size=args.batch_size,
        device=args.device,
        limit=_parse_limit(args.limit),
        log_samples=args.log_samples,
        gen_kwargs=args.gen_kwargs,
        task_manager=tm,
        apply_chat_template=args.apply_chat_template,
        evaluation_tracker=tracker,
        random_seed=args.seed,
        numpy_random_seed=args.seed,
        torch_random_seed=args.seed,
        fewshot_random_seed=args.seed,
        metadata=metadata,
    )
    if results is None:  # non-zero ranks in a distributed run
        return 0
    samples = results.pop("samples", None)
    if tracker is not None:
        tracker.save_results_aggregated(results=results, samples=samples if args.log_samples else None)
        if args.log_samples:
            for task_name in results["configs"]:
                tracker.save_results_samples(task_name=task_name, samples=samples[task_name])
    print(make_table(results))
    if results.get("groups"):
        print(make_table(results, "groups"))
    if args.output_path is None:
        print(json.dumps(results["results"], indent=2, default=handle_non_serializable, ensure_ascii=False))
    return 0
