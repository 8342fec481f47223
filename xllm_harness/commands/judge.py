"""``xllm judge qa|pairwise``: LLM-as-a-judge over lm-eval ``--log_samples`` folders.

Results go to ``judge_qa_<timestamp>.json`` / ``judge_pairwise_<timestamp>.json`` beside the inputs
(or ``--output``), with per-item details in a ``.details.jsonl`` file next to it. Exit status 0 when
every item was judged, 1 when some were not (spend cap, failed requests, a batch left pending), 130
after Ctrl-C: the results written then are partial, and a rerun (cache) makes only the missing calls.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError

DEFAULT_MODEL = "gpt-3.5-turbo"  # the paper's ChatGPT

EPILOG = """\
examples:
  OPENAI_API_KEY=... xllm judge qa results/ --max-cost 5
  xllm judge qa results/ --batch --batch-deadline 3600          # Batch API, half the price; rerun resumes
  xllm judge pairwise --a results/x-llama --b results/alpaca --base-url http://localhost:8000/v1 \\
      --model Qwen/Qwen2.5-7B-Instruct --price-input 0 --price-output 0
  xllm judge qa results/ --export-batch requests.jsonl           # run it elsewhere, then --import-batch

One writer per cache: a second xllm judge on the same --cache waits for the first, then reuses its
replies and batches. Ctrl-C stops at once, writes the partial results and exits 130."""


def _common(p: argparse.ArgumentParser, temperature: float, max_tokens: int) -> None:
    g = p.add_argument_group("judge endpoint")
    g.add_argument("--judge", default="openai", help="judge backend plugin")
    g.add_argument("--model", default=os.environ.get("XLLM_JUDGE_MODEL", DEFAULT_MODEL), help="judge model")
    g.add_argument("--base-url", default=None, help="endpoint base URL (default: OPENAI_BASE_URL or OpenAI)")
    g.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the key")
    g.add_argument(
        "--timeout", type=float, default=60.0,
        help="seconds per HTTP request in all (connect, send, the whole reply)",
    )  # fmt: skip
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
    g.add_argument(
        "--max-connection-failures", type=int, default=5,
        help="stop after this many connection failures in a row",
    )  # fmt: skip
    g.add_argument("--cache", default=None, help="cache file (default: $XLLM_CACHE_DIR/judge/cache.sqlite)")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    g = p.add_argument_group("Batch API and local batch runs")
    mode = g.add_mutually_exclusive_group()
    mode.add_argument("--batch", action="store_true", help="send the uncached requests through the Batch API")
    mode.add_argument("--export-batch", metavar="FILE", help="write the uncached requests as Batch-API JSONL")
    mode.add_argument("--import-batch", metavar="FILE", help="read a Batch-API output JSONL into the cache")
    g.add_argument("--batch-discount", type=float, default=0.5, help="price factor of batch replies")
    g.add_argument("--batch-max-requests", type=int, default=50_000, help="requests per batch file")
    g.add_argument(
        "--batch-max-bytes", type=int, default=200 * 1024 * 1024, help="bytes per batch file (200 MiB)"
    )
    g.add_argument("--batch-poll-interval", type=float, default=5.0, help="first wait between polls (s)")
    g.add_argument(
        "--batch-deadline", type=float, default=26 * 3600.0,
        help="seconds to wait for batches; then stop, keeping them for a rerun",
    )  # fmt: skip
    p.add_argument(
        "--filter", default=None, dest="filter_name",
        help="lm-eval filter whose answers are judged (default: as xllm score: 'none', else the first)",
    )  # fmt: skip
    p.add_argument("--limit", type=int, default=None, help="items per task")
    p.add_argument("--tasks", default=None, help="comma-separated task names (default: all found)")
    p.add_argument("--output", "-o", default=None, help="result file (.json) or folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def register(sub) -> None:
    p = sub.add_parser(
        "judge", help="LLM-as-a-judge: QA correctness and MI-Eval pairwise", epilog=EPILOG,
        description="LLM-as-a-judge over lm-eval --log_samples folders (paper Table 2 and Figure 4).",
    )  # fmt: skip
    jsub = p.add_subparsers(dest="judge_command", metavar="JOB")
    jsub.required = True
    qa = jsub.add_parser(
        "qa", help="YES/NO correctness of xquad/mlqa answers (paper Table 2)", epilog=EPILOG,
        description="YES/NO correctness of xquad/mlqa answers (paper Table 2), 100 per task by default.",
    )  # fmt: skip
    qa.add_argument("samples", help="lm-eval output folder written with --log_samples")
    qa.add_argument(
        "--run", default=None, metavar="TIMESTAMP",
        help="the run to judge when the folder holds several (its results_<timestamp>.json's timestamp)",
    )  # fmt: skip
    qa.add_argument(
        "--parser", choices=["default", "x-llm"], default="default",
        help="verdict parser: read the verdict (default), or reproduce x-LLM: its first case-sensitive "
        "YES/NO, NO(Error) counted as NO, empty answers judged too (docs/differences.md)",
    )  # fmt: skip
    _common(qa, temperature=0.0, max_tokens=128)
    qa.set_defaults(func=run_qa, limit_default=100)
    pw = jsub.add_parser(
        "pairwise", help="MI-Eval: system A against system B (paper Figure 4)", epilog=EPILOG,
        description="MI-Eval: system A against system B (paper Figure 4), both orders, language gate.",
    )  # fmt: skip
    pw.add_argument("--a", required=True, help="samples folder of system A")
    pw.add_argument("--b", required=True, help="samples folder of system B")
    pw.add_argument(
        "--run-a", default=None, metavar="TIMESTAMP", help="A's run when its folder holds several"
    )
    pw.add_argument(
        "--run-b", default=None, metavar="TIMESTAMP", help="B's run when its folder holds several"
    )
    pw.add_argument("--a-name", default=None, help="name of A (default: lm-eval's model_name)")
    pw.add_argument("--b-name", default=None, help="name of B")
    pw.add_argument("--one-order", action="store_true", help="judge only with A shown first")
    pw.add_argument(
        "--gate-by", choices=["task", "question"], default="task",
        help="language an answer must be in: the task's (default) or the question's detected one (x-LLM)",
    )  # fmt: skip
    _common(pw, temperature=0.0, max_tokens=512)
    pw.set_defaults(func=run_pairwise, limit_default=None)


def _transport(args: argparse.Namespace):
    from xllm_harness.judging.batch_api import BatchTransport
    from xllm_harness.judging.transports import ExportTransport, ImportTransport, SyncTransport

    if args.batch:
        return BatchTransport()
    if args.export_batch:
        return ExportTransport(args.export_batch)
    if args.import_batch:
        return ImportTransport(args.import_batch)
    return SyncTransport()


def _client(args: argparse.Namespace):
    from xllm_harness.judging import get_judges
    from xllm_harness.judging.cache import JudgeCache
    from xllm_harness.judging.client import JudgeClient, JudgeSettings
    from xllm_harness.taskgen import cache_dir

    check_options(args)
    judges = get_judges()
    if args.judge not in judges:
        raise InputError(
            f"--judge {args.judge!r}: unknown; registered: {', '.join(sorted(judges)) or 'none'}"
        )
    offline = bool(args.export_batch or args.import_batch)  # no request is sent: no key needed
    api_key = os.environ.get(args.api_key_env)
    if not api_key and not offline:
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
        max_connection_failures=args.max_connection_failures,
        price_input=args.price_input,
        price_output=args.price_output,
        max_cost=args.max_cost,
        batch_discount=args.batch_discount,
        batch_max_requests=args.batch_max_requests,
        batch_max_bytes=args.batch_max_bytes,
        batch_poll_interval=args.batch_poll_interval,
        batch_poll_max=max(60.0, args.batch_poll_interval),
        batch_deadline=args.batch_deadline,
        progress=not args.no_progress,
    )
    cache = (
        None
        if args.no_cache
        else JudgeCache(Path(args.cache) if args.cache else cache_dir() / "judge" / "cache.sqlite")
    )
    client = JudgeClient(judge, settings, cache, _transport(args))
    if cache is not None:
        cache.hold()
    return client


def check_options(args: argparse.Namespace) -> None:
    """The options no other layer checks (``JudgeSettings`` and the ledger check the rest): one line
    naming the option."""
    if args.limit is not None and args.limit < 1:
        raise InputError(f"--limit must be >= 1 (items per task), got {args.limit}; leave it out for all")
    if args.parse_retries < 0:
        raise InputError(f"--parse-retries must be >= 0, got {args.parse_retries}")


def _identity_record(run) -> dict[str, str] | None:
    """The ``{"model", "model_args"}`` record of a run's model for the judge file (``None``: unknown)."""
    identity = run.identity()
    return identity.to_dict() if identity is not None else None


def _header(client, args: argparse.Namespace) -> dict[str, Any]:
    s = client.settings
    return {
        "judge": {"backend": client.judge.name, "model": client.judge.model, "base_url": client.judge.endpoint},
        "settings": {
            "temperature": s.temperature, "max_tokens": s.max_tokens, "k": s.k,
            "parse_retries": args.parse_retries, "limit": args.limit, "filter": args.filter_name,
            "transport": "batch" if args.batch else "import" if args.import_batch else "sync",
        },
    }  # fmt: skip


def _finish(
    kind: str, client, args, default_dir: Path, payload: dict, details: list[dict], counts: dict[str, Any]
) -> int:
    """Write the results (unless exporting) and end with the summary line; exit status 0 or 1."""
    from xllm_harness.judging.backend import Interrupted, JudgeAuthError, JudgeConnectionError
    from xllm_harness.judging.batch_api import BatchTransport
    from xllm_harness.judging.summary import summary_line
    from xllm_harness.judging.transports import ExportTransport, ImportTransport

    stopped = client.stopped
    transport = client.transport
    if isinstance(transport, ExportTransport):
        written = transport.write()
        print(
            f"judge {kind}: wrote {written} request(s) to {transport.path} ({client.usage.cache_hits} already "
            "cached); run them (OpenAI Batch API, vLLM run_batch) and finish with --import-batch OUTPUT",
            file=sys.stderr,
        )
        print(transport.path)
        return 0
    if isinstance(stopped, (JudgeAuthError, JudgeConnectionError)):  # fail loudly (exit status 2)
        print(summary_line(kind, counts, client.usage), file=sys.stderr)
        raise type(stopped)(f"{stopped}; what was judged so far is cached: rerun to continue")
    payload["usage"] = client.usage.to_dict()
    payload["counts"] = counts
    payload["complete"] = counts["failed"] == 0 and not counts["skipped"] and stopped is None
    if stopped is not None:
        payload["stopped"] = str(stopped)
    lines = None
    if isinstance(transport, ImportTransport):
        lines = transport.line_counts()
        payload["import"] = {"file": str(transport.path), **lines.to_dict()}
    elif isinstance(transport, BatchTransport):
        lines = transport.line_counts
        payload["batch_lines"] = lines.to_dict()
    if lines is not None and (lines.duplicate or lines.foreign or lines.malformed or lines.undecodable):
        print(
            f"judge {kind}: batch output lines: {lines.used} used, {lines.duplicate} duplicate custom_id "
            f"(the first line counts), {lines.foreign} foreign custom_id (no request of this job: same "
            f"--model, --base-url and settings as the export?), {lines.malformed} not parsable, "
            f"{lines.undecodable} not UTF-8",
            file=sys.stderr,
        )
    if client.usage.unknown_usage:
        print(
            f"judge {kind}: {client.usage.unknown_usage} repl(ies) came with an unusable usage "
            f"({', '.join(f'{k}: {v}' for k, v in client.usage.usage_problems.items())}): kept, not billed",
            file=sys.stderr,
        )
    from xllm_harness.results.judge_files import judge_path, write_judge

    path = write_judge(judge_path(kind, args.output, default_dir), payload, details)
    if stopped is not None:
        print(f"judge {kind}: {stopped}; partial results kept, rerun to continue", file=sys.stderr)
    elif counts["failed"]:
        print(
            f"judge {kind}: {counts['failed']} item(s) not judged (failed requests); rerun to retry",
            file=sys.stderr,
        )
    elif counts["skipped"]:
        print(f"judge {kind}: some items were not sent; rerun to continue", file=sys.stderr)
    print(summary_line(kind, counts, client.usage), file=sys.stderr)
    print(path)
    if isinstance(stopped, Interrupted):
        return 130
    return 0 if payload["complete"] else 1


def _check_output(args: argparse.Namespace, default_dir: Path) -> None:
    """The results' folder can be written, checked before any judge call (unless only exporting)."""
    from xllm_harness.results.files import check_writable
    from xllm_harness.results.judge_files import judge_path

    if not args.export_batch:
        check_writable(judge_path("check", args.output, default_dir).parent, "judge results folder")


def _tasks(args) -> list[str] | None:
    return [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else None


def run_qa(args: argparse.Namespace) -> int:
    from xllm_harness.judging.prompts import QA_PARSERS
    from xllm_harness.judging.qa import judge_qa
    from xllm_harness.judging.summary import qa_counts
    from xllm_harness.results.lm_eval import choose_run

    client = _client(args)
    run = choose_run(args.samples, args.run, "--run", "samples")
    _check_output(args, run.folder)
    limit = args.limit if args.limit is not None else args.limit_default
    results, details = judge_qa(
        run, client, limit=limit, tasks=_tasks(args), parse_retries=args.parse_retries,
        parse=QA_PARSERS[args.parser], filter_name=args.filter_name, xllm_tally=args.parser == "x-llm",
    )  # fmt: skip
    payload = _header(client, args)
    payload["settings"]["limit"] = limit
    payload["settings"]["parser"] = args.parser
    payload["model_name"] = run.model_name()
    payload["model_identity"] = _identity_record(run)
    payload["run"] = run.timestamp
    payload["results"] = results
    if not args.export_batch:
        for task, row in results.items():
            acc = "n/a" if row["judge_accuracy"] is None else f"{row['judge_accuracy']:.3f}"
            print(
                f"{task}\tjudge_accuracy={acc}\tn={row['n']}\tunparseable={row['unparseable']}"
                f"\tfailed={row['failed']}\tskipped={row['skipped']}"
            )
    return _finish("qa", client, args, run.folder, payload, details, qa_counts(results))


def run_pairwise(args: argparse.Namespace) -> int:
    from xllm_harness.judging.pairwise import judge_pairwise
    from xllm_harness.judging.summary import all_gated_line, pairwise_counts
    from xllm_harness.results.lm_eval import choose_run

    client = _client(args)
    run_a = choose_run(args.a, args.run_a, "--run-a", "--a")
    run_b = choose_run(args.b, args.run_b, "--run-b", "--b")
    _check_output(args, run_a.folder)
    results, details = judge_pairwise(
        run_a, run_b, client, limit=args.limit, tasks=_tasks(args),
        both_orders=not args.one_order, parse_retries=args.parse_retries, gate_by=args.gate_by,
        filter_name=args.filter_name,
    )  # fmt: skip
    payload = _header(client, args)
    payload["settings"]["both_orders"] = not args.one_order
    payload["settings"]["gate_by"] = args.gate_by
    for side, run, name in (("a", run_a, args.a_name), ("b", run_b, args.b_name)):
        payload[side] = {
            "model": name or run.model_name(),
            "samples": str(run.folder.resolve()),
            "run": run.timestamp,
        }
    payload["models"] = {"a": payload["a"]["model"], "b": payload["b"]["model"]}
    payload["systems"] = {"a": _identity_record(run_a), "b": _identity_record(run_b)}
    payload["direction"] = "win/tie/loss of a against b: win = a's mean score is higher"
    payload["results"] = results
    if not args.export_batch:
        _print_pairwise(payload)
        gated = all_gated_line(results["all"])
        if gated:
            print(gated, file=sys.stderr)
    return _finish("pairwise", client, args, run_a.folder, payload, details, pairwise_counts(results["all"]))


def _print_pairwise(payload: dict[str, Any]) -> None:
    def share(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    print(f"{payload['a']['model']} (a) vs {payload['b']['model']} (b)")
    for lang, row in payload["results"].items():
        print(
            f"{lang}\twin={row['win']}\ttie={row['tie']}\tloss={row['loss']}\tjudged={row['judged']}"
            f"\tgated={row['gated']}\ta_in_lang={share(row['a_in_language'])}\tb_in_lang={share(row['b_in_language'])}"
            f"\tposition_bias={share(row['position_bias_rate'])}\tunparseable={row['unparseable']}"
        )
