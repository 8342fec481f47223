"""`xllm eval` (in-process, our task folders only) vs the `lm_eval` CLI on the same task, model and limit.

    python benchmarks/bench_eval_routes.py [--task xquad_xllm_ar,flores_xllm_en-zh] [--limit 20] [--model DIR]

Builds a tiny model, runs both routes as subprocesses on the bundled samples, checks that the metric
values are identical, and prints the wall-time ratio (lm_eval / xllm eval).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return time.perf_counter() - start


def metrics(out_dir: Path, task: str) -> dict:
    results = json.loads(sorted(out_dir.rglob("results_*.json"))[-1].read_text())["results"][task]
    return {k: v for k, v in results.items() if k.endswith(",none") and "stderr" not in k}


def generations(out_dir: Path, task: str) -> list[str]:
    lines = sorted(out_dir.rglob(f"samples_{task}_*.jsonl"))[-1].read_text().splitlines()
    return [json.loads(line)["filtered_resps"][0] for line in lines]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="xquad_xllm_ar,flores_xllm_en-zh", help="comma-separated tasks")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--max-gen-toks", type=int, default=32)
    parser.add_argument(
        "--model",
        default=None,
        help="model folder (default: build a random tiny Llama; "
        "`xllm demo` leaves a trained one in demo_out/tiny-coit)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs per route (median reported)")
    args = parser.parse_args()

    from xllm_harness.data.samples import SAMPLES_DIR, tokenizer_corpus
    from xllm_harness.models.tiny_llama import build_tiny_llama

    work = Path(tempfile.mkdtemp(prefix="bench_routes_"))
    model = args.model or build_tiny_llama(work / "model", tokenizer_corpus())
    env = dict(
        os.environ,
        XLLM_DATA_DIR=str(SAMPLES_DIR),
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    common = [
        "--model",
        "hf",
        "--model_args",
        f"pretrained={model},dtype=float32",
        "--device",
        "cpu",
        "--tasks",
        args.task,
        "--limit",
        str(args.limit),
        "--gen_kwargs",
        f"max_gen_toks={args.max_gen_toks}",
    ]
    common += ["--log_samples"]
    t_xllm, t_cli = [], []
    for i in range(args.repeats):  # interleaved, so both routes see the same machine load
        xllm_cmd = [
            sys.executable,
            "-m",
            "xllm_harness.cli",
            "eval",
            *common,
            "--output_path",
            str(work / f"xllm{i}"),
        ]
        t_xllm.append(timed(xllm_cmd, work, env))
        t_cli.append(
            timed(
                [sys.executable, "-m", "lm_eval", *common, "--output_path", str(work / f"cli{i}")], work, env
            )
        )
    tasks = args.task.split(",")
    m_xllm = {t: metrics(work / "xllm0", t) for t in tasks}
    m_cli = {t: metrics(work / "cli0", t) for t in tasks}
    same_text = all(generations(work / "xllm0", t) == generations(work / "cli0", t) for t in tasks)
    med_x, med_c = statistics.median(t_xllm), statistics.median(t_cli)
    print(
        f"tasks {args.task}, limit {args.limit}, tiny Llama on CPU, {args.repeats} interleaved runs per route"
    )
    print(f"metrics xllm eval: {m_xllm}")
    print(f"metrics lm_eval  : {m_cli}")
    print(f"identical metric values: {m_xllm == m_cli}; identical generations: {same_text}")
    print(
        f"median wall time: xllm eval {med_x:.1f}s, lm_eval CLI {med_c:.1f}s, ratio lm_eval/xllm = {med_c / med_x:.2f}x"
    )
    if m_xllm != m_cli or not same_text:
        sys.exit(1)


if __name__ == "__main__":
    main()
