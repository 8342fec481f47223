"""``xllm judge qa|pairwise``: LLM-as-a-judge over lm-eval ``--log_samples`` folders.

Results go to ``judge_qa_<timestamp>.json`` / ``judge_pairwise_<timestamp>.json`` beside the inputs
(or ``--output``), with per-item details in a ``.details.jsonl`` file next to it. Exit status 0 when
every item was judged, 1 when some were not (spend cap, failed requests): the results written then
are partial, and a rerun (cache) makes only the missing calls.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError

DEFAULT_MODEL = "gpt-3.5-turbo"  # the paper's ChatGPT


def _common(p: argparse.ArgumentParser, temperature: float, max_tokens: int) -> None:
    g = p.add_argument_group("judge endpoint")
    g.add_argument("--judge", default="openai", help="judge backend plugin (default: openai)")
    g.add_argument("--model", default=os.environ.get("XLLM_JUDGE_MODEL", DEFAULT_MODEL), help="judge model")
    g.add_argument("--base-url", default=None, help="endpoint base URL (default: OPENAI_BASE_URL or OpenAI)")
    g.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the key")
    g.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    g = p.add_argument_group("sampling")
    g.add_argument("--temperature", type=float, default=temperature)
    g.add_argument("--max-tokens", type=int, default=max_tokens)
    g.add_argument("--k", type=int, default=1, help="samples per item (each its own request)")
    g.add_argument("--parse-retries", type=int, default=2, help="re-asks after an unparseable reply")
    g = p.add_argument_group("throughput, cache and cost")
    g.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    g.add_argument("--max-retries", type=int, default=6, help="retries of 429/5xx/timeouts/malformed replies")
    g.add_argument("--backoff-base", type=float, default=0.5, help="first backoff in seconds (doubles)")
    g.add_argument("--price-input", type=float, default=None, help="USD per 1M prompt tokens")
    g.add_argument("--price-output", type=float, default=None, help="USD per 1M completion tokens")
    g.add_argument(
        "--max-cost", type=float, default=None, help="stop before new spending could pass this (USD)"
    )
    g.add_argument("--cache", default=None, help="cache file (default: $XLLM_CACHE_DIR/judge/cache.sqlite)")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--limit", type=int, default=None, help="items per task")
    p.add_argument("--tasks", default=None, help="comma-separated task names (default: all found)")
    p.add_argument("--output", "-o", default=None, help="result file (.json) or folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def register(sub) -> None:
    p = sub.add_parser("judge", help="LLM-as-a-judge: QA correctness and MI-Eval pairwise")
    jsub = p.add_subparsers(dest="judge_command", metavar="JOB")
    jsub.required = True
    qa = jsub.add_parser("qa", help="YES/NO correctness of xquad/mlqa answers (paper Table 2)")
    qa.add_argument("samples", help="lm-eval output folder written with --log_samples")
    _common(qa, temperature=0.0, max_tokens=128)
    qa.set_defaults(func=run_qa, limit_default=100)
    pw = jsub.add_parser("pairwise", help="MI-Eval: system A against system B (paper Figure 4)")
    pw.add_argument("--a", required=True, help="samples folder of system A")
    pw.add_argument("--b", required=True, help="samples folder of system B")
    pw.add_argument("--a-name", default=None, help="name of A (default: lm-eval's model_name)")
    pw.add_argument("--b-name", default=None, help="name of B")
    pw.add_argument("--one-order", action="store_true", help="judge only with A shown first")
    pw.add_argument(
        "--gate-by", choices=["task", "question"], default="task",
        help="language an answer must be in: the task's (default) or the question's detected one (x-LLM)",
    )  # fmt: skip
    _common(pw, temperature=0.0, max_tokens=512)
    pw.set_defaults(func=run_pairwise, limit_default=None)


def _client(args: argparse.Namespace):
    from xllm_harness.judging import get_judges
    from xllm_harness.judging.cache import JudgeCache
    from xllm_harness.judging.client import JudgeClient, JudgeSettings
    from xllm_harness.taskgen import cache_dir

    judges = get_judges()
    if args.judge not in judges:
        raise InputError(
            f"--judge {args.judge!r}: unknown; registered: {', '.join(sorted(judges)) or 'none'}"
        )
    api_key = os.environ.get(args.api_key_env)
    if not api_key:
        raise InputError(f"no API key: environment variable {args.api_key_env} is not set (--api-key-env)")
    judge = judges[args.judge](
        model=args.model, base_url=args.base_url, api_key=api_key, timeout=args.timeout
    )
    settings = JudgeSettings(
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        k=args.k,
        concurrency=args.concurrency,
        max_retries=args.max_retries,
        backoff_base=args.backoff_base,
        price_input=args.price_input,
        price_output=args.price_output,
        max_cost=args.max_cost,
        progress=not args.no_progress,
    )
    cache = (
        None
        if args.no_cache
        else JudgeCache(Path(args.cache) if args.cache else cache_dir() / "judge" / "cache.sqlite")
    )
    return JudgeClient(judge, settings, cache)


def _header(client, args: argparse.Namespace) -> dict[str, Any]:
    s = client.settings
    return {
        "judge": {"backend": client.judge.name, "model": client.judge.model, "base_url": client.judge.endpoint},
        "settings": {
            "temperature": s.temperature, "max_tokens": s.max_tokens, "k": s.k,
            "parse_retries": args.parse_retries, "limit": args.limit,
        },
    }  # fmt: skip


def _write(
    kind: str, default_dir: Path, args: argparse.Namespace, payload: dict, details: list[dict]
) -> Path:
    stamp = datetime.now().isoformat().replace(":", "-")
    out = Path(args.output) if args.output else default_dir
    path = out if out.suffix == ".json" else out / f"judge_{kind}_{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, text in (
        (
            path.with_suffix(".details.jsonl"),
            "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in details),
        ),
        (path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n"),
    ):
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    return path


def _finish(
    kind: str, client, args, default_dir: Path, payload: dict, details: list[dict], incomplete: int
) -> int:
    from xllm_harness.judging.client import JudgeAuthError

    stopped = client.stopped
    if isinstance(stopped, JudgeAuthError):  # nothing worth keeping: fail loudly (exit status 2)
        raise stopped
    payload["usage"] = client.usage.to_dict()
    payload["complete"] = incomplete == 0 and stopped is None
    if stopped is not None:
        payload["stopped"] = str(stopped)
    path = _write(kind, default_dir, args, payload, details)
    usage = client.usage
    cost = "unknown (no price)" if usage.cost_usd is None else f"{usage.cost_usd:.4f} USD"
    print(
        f"judge {kind}: {usage.requests} requests ({usage.retries} retries, {usage.cache_hits} from cache), "
        f"{usage.prompt_tokens}+{usage.completion_tokens} tokens, cost {cost}",
        file=sys.stderr,
    )
    if stopped is not None:
        print(f"judge {kind}: {stopped}; partial results kept, rerun to continue", file=sys.stderr)
    elif incomplete:
        print(
            f"judge {kind}: {incomplete} item(s) not judged (failed requests); rerun to retry",
            file=sys.stderr,
        )
    print(path)
    return 0 if payload["complete"] else 1


def _beside(folder: str) -> Path:
    """Where results go by default: the folder holding the samples files (lm-eval's model subfolder)."""
    from xllm_harness.lm_eval_outputs import sample_files

    parents = {path.parent for path in sample_files(folder).values()}
    return parents.pop() if len(parents) == 1 else Path(folder)


def _tasks(args) -> list[str] | None:
    return [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else None


def run_qa(args: argparse.Namespace) -> int:
    from xllm_harness.judging.qa import judge_qa

    client = _client(args)
    limit = args.limit if args.limit is not None else args.limit_default
    results, details = judge_qa(
        args.samples, client, limit=limit, tasks=_tasks(args), parse_retries=args.parse_retries
    )
    from xllm_harness.lm_eval_outputs import recorded_model_name as model_name

    payload = _header(client, args)
    payload["settings"]["limit"] = limit
    payload["model_name"] = model_name(args.samples)
    payload["results"] = results
    for task, row in results.items():
        acc = "n/a" if row["judge_accuracy"] is None else f"{row['judge_accuracy']:.3f}"
        print(
            f"{task}\tjudge_accuracy={acc}\tn={row['n']}\tunparseable={row['unparseable']}\tfailed={row['failed']}"
        )
    incomplete = sum(row["failed"] for row in results.values())
    return _finish("qa", client, args, _beside(args.samples), payload, details, incomplete)


def run_pairwise(args: argparse.Namespace) -> int:
    from xllm_harness.judging.pairwise import judge_pairwise
    from xllm_harness.lm_eval_outputs import recorded_model_name as model_name

    client = _client(args)
    results, details = judge_pairwise(
        args.a, args.b, client, limit=args.limit, tasks=_tasks(args),
        both_orders=not args.one_order, parse_retries=args.parse_retries, gate_by=args.gate_by,
    )  # fmt: skip
    payload = _header(client, args)
    payload["settings"]["both_orders"] = not args.one_order
    payload["settings"]["gate_by"] = args.gate_by
    payload["a"] = {"model": args.a_name or model_name(args.a), "samples": str(Path(args.a).resolve())}
    payload["b"] = {"model": args.b_name or model_name(args.b), "samples": str(Path(args.b).resolve())}
    payload["models"] = {"a": payload["a"]["model"], "b": payload["b"]["model"]}
    payload["direction"] = "win/tie/loss of a against b: win = a's mean score is higher"
    payload["results"] = results
    print(f"{payload['a']['model']} (a) vs {payload['b']['model']} (b)")
    for lang, row in results.items():
        bias = "n/a" if row["position_bias_rate"] is None else f"{row['position_bias_rate']:.2f}"
        print(
            f"{lang}\twin={row['win']}\ttie={row['tie']}\tloss={row['loss']}\ta_in_lang={row['a_in_language']:.2f}"
            f"\tb_in_lang={row['b_in_language']:.2f}\tposition_bias={bias}\tunparseable={row['unparseable']}"
        )
    return _finish("pairwise", client, args, _beside(args.a), payload, details, results["all"]["failed"])
