"""COMET throughput of our path vs the ``comet-score`` CLI, and COMET loads in a multi-task run.

    python benchmarks/bench_comet.py [--segments 1012] [--batch-size 16] [--tasks 4] [--limit 5]

1. Segments per second on the same 1012 FLORES-101 devtest segments (English sources, Arabic
   references, a shifted Arabic "system") with a tiny random COMET checkpoint built here:
   ``comet-score`` as a subprocess (its whole run: start-up, load, scoring) against our
   ``Comet.corpus_score`` in this process, cold (load + score) and warm (model cached). Data from
   ``$XLLM_SHARED_DATA/flores101`` when set, else the bundled 50-line samples repeated (printed).
   Both sides score on ``--device`` (CPU by default; ``cuda:0`` gives comet-score ``--gpus 1``) in half
   precision, batch size 16; the system scores must agree.
2. The number of COMET model loads in one multi-task lm-eval run (tiny Llama, ``--tasks`` FLORES
   directions with COMET enabled) followed by ``xllm score`` of its samples: must be 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def flores_segments(n: int) -> tuple[list[str], list[str], list[str], str]:
    from xllm_harness.samples import SAMPLES_DIR
    from xllm_harness.translation import read_lines

    shared = os.environ.get("XLLM_SHARED_DATA")
    root = Path(shared) / "flores101" if shared and (Path(shared) / "flores101").is_dir() else None
    origin = f"{root}/devtest (real FLORES-101)" if root else "bundled samples, 50 lines repeated"
    root = root or SAMPLES_DIR / "flores101"
    src = read_lines(root / "devtest" / "eng.devtest")
    ref = read_lines(root / "devtest" / "ara.devtest")
    reps = -(-n // len(src))
    src, ref = (src * reps)[:n], (ref * reps)[:n]
    hyp = [ref[(i + 1) % n] if i % 2 else ref[i] for i in range(n)]
    return src, hyp, ref, origin


def bench_throughput(work: Path, comet_dir: Path, n: int, batch_size: int, device: str, repeats: int) -> None:
    from xllm_harness.plugins.metrics.comet import Comet

    src, hyp, ref, origin = flores_segments(n)
    files = {}
    for name, lines in (("src", src), ("hyp", hyp), ("ref", ref)):
        files[name] = work / f"{name}.txt"
        files[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"segments: {n} ({origin}); tiny COMET at {comet_dir}; batch size {batch_size}; {device}, fp16")

    cli_json = work / "cli.json"
    cmd = [str(Path(sys.executable).with_name("comet-score"))]
    cmd += ["-s", str(files["src"]), "-t", str(files["hyp"]), "-r", str(files["ref"])]
    cmd += [
        "--model",
        str(comet_dir / "checkpoints" / "model.ckpt"),
        "--gpus",
        "1" if device.startswith("cuda") else "0",
        "--batch_size",
        str(batch_size),
    ]
    cmd += ["--quiet", "--to_json", str(cli_json)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    metric = Comet(model=str(comet_dir), batch_size=batch_size, device=device)
    refs = [[r] for r in ref]
    cli_times, our_times = [], []
    for _ in range(repeats):  # alternate the two sides, so load from other jobs hits both alike
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        cli_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ours = metric.corpus_score(hyp, refs, sources=src)
        our_times.append(time.perf_counter() - t0)
    cli_scores = [seg["COMET"] for seg in next(iter(json.loads(cli_json.read_text()).values()))]
    cli_system = 100 * sum(cli_scores) / len(cli_scores)
    print(
        f"system score: comet-score {cli_system:.6f}  ours {ours.score:.6f}  (|diff| {abs(cli_system - ours.score):.2e})"
    )
    cli_s, cold_s = min(cli_times), our_times[0]
    warm_s = min(our_times[1:]) if len(our_times) > 1 else cold_s
    print(
        f"runs (s): comet-score {', '.join(f'{t:.2f}' for t in cli_times)}; ours {', '.join(f'{t:.2f}' for t in our_times)}"
    )
    print(
        f"comet-score CLI (subprocess, start-up + load + score), best: {cli_s:7.2f} s  {n / cli_s:8.1f} seg/s"
    )
    print(
        f"ours, cold (first call: load + score, in-process):         {cold_s:7.2f} s  {n / cold_s:8.1f} seg/s"
    )
    print(
        f"ours, warm (model cached, score only), best:                {warm_s:7.2f} s  {n / warm_s:8.1f} seg/s"
    )
    print(f"ratio ours/CLI seg/s: cold {cli_s / cold_s:.2f}x  warm {cli_s / warm_s:.2f}x")


def bench_loads(work: Path, n_tasks: int, limit: int) -> None:
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    from xllm_harness.lm_eval_bridge import task_manager
    from xllm_harness.plugins.metrics import comet as comet_plugin
    from xllm_harness.samples import SAMPLES_DIR, tokenizer_corpus
    from xllm_harness.scoring import score_folder
    from xllm_harness.testing.tiny_metric_models import build_tiny_comet
    from xllm_harness.testing.tiny_models import build_tiny_llama

    os.environ.setdefault("XLLM_DATA_DIR", str(SAMPLES_DIR))
    model = build_tiny_llama(work / "llama", tokenizer_corpus())
    comet_dir = build_tiny_comet(work / "tiny-comet-loads", tokenizer_corpus(), seed=1)  # never loaded before
    tasks = [f"flores_xllm_en-{c}" for c in ("ar", "el", "hi", "tr", "vi", "zh")][:n_tasks]
    key = str((comet_dir / "checkpoints" / "model.ckpt").resolve())
    before = comet_plugin.LOADS.count(key)
    tracker = EvaluationTracker(output_path=str(work / "out"))
    out = simple_evaluate(
        model="hf",
        model_args=f"pretrained={model},dtype=float32",
        device="cpu",
        tasks=tasks,
        limit=limit,
        gen_kwargs="max_gen_toks=16",
        task_manager=task_manager(metadata={"metrics": "chrf,comet", "comet_model": str(comet_dir)}),
        log_samples=True,
        bootstrap_iters=0,
    )
    samples = out.pop("samples")
    tracker.save_results_aggregated(results=out, samples=samples)
    for task in tasks:
        tracker.save_results_samples(task_name=task, samples=samples[task])
    in_run = comet_plugin.LOADS.count(key) - before
    score_folder(
        work / "out",
        metrics=["comet"],
        options={"comet": {"model": str(comet_dir)}},
        log=lambda *_: None,
    )
    total = comet_plugin.LOADS.count(key) - before
    print(
        f"COMET model loads: {in_run} in a {len(tasks)}-task lm-eval run ({limit} docs each); "
        f"{total} after also rescoring its samples with xllm score in the same process (must be 1)"
    )
    assert in_run == 1 and total == 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=1012)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--tasks", type=int, default=4, help="FLORES directions in the multi-task run")
    parser.add_argument("--limit", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each side")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda:0 (then comet-score gets --gpus 1)")
    parser.add_argument("--skip-throughput", action="store_true", help="only count model loads")
    args = parser.parse_args()
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(var, "1")
    os.environ["XLLM_COMET_PRECISION"] = "fp16"
    from xllm_harness.samples import tokenizer_corpus
    from xllm_harness.testing.tiny_metric_models import build_tiny_comet

    with tempfile.TemporaryDirectory(prefix="bench_comet_") as tmp:
        work = Path(tmp)
        comet_dir = build_tiny_comet(work / "tiny-comet", tokenizer_corpus())
        if not args.skip_throughput:
            bench_throughput(work, comet_dir, args.segments, args.batch_size, args.device, args.repeats)
        bench_loads(work, args.tasks, args.limit)


if __name__ == "__main__":
    main()
