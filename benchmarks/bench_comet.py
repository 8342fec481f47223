"""Our COMET against unbabel-comet, each in its own environment, and COMET loads in a multi-task run.

    python benchmarks/bench_comet.py [--theirs-python /work/parity-venv/bin/python] [--device cpu]
           [--segments 1012] [--repeats 2] [--tasks 4] [--limit 5]

1. Throughput and peak memory on the 1012 FLORES-101 devtest segments (English sources, Arabic
   references, a shifted Arabic "system"; ``$XLLM_SHARED_DATA/flores101``, else the bundled lines
   repeated) with a tiny random COMET regression checkpoint written here in Unbabel's layout. Each side
   is a subprocess running this file with ``--side``: ours in this interpreter (``.venv``, transformers
   5), theirs with ``--theirs-python`` (the parity environment, ``scripts/parity/setup.sh``:
   unbabel-comet 2.2.7's ``load_from_checkpoint`` + ``predict``, batch size 16, its length sorting).
   Both in float32 on the CPU; with ``--device cuda:0`` ours runs bf16 (sdpa attention, token-budget
   batches) and theirs fp16 as ``comet-score`` does (``model.half()``, ``gpus=1``). Printed: load and
   scoring seconds, segments/s, peak RSS (and peak CUDA memory), the ratios, and the largest segment
   score difference (must stay under 1e-5 in float32).
2. The number of COMET model loads in one multi-task lm-eval run (tiny Llama, ``--tasks`` FLORES
   directions with COMET enabled) followed by ``xllm score`` of its samples: must be 1.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

THEIRS_PYTHON = "/work/parity-venv/bin/python"


def flores_segments(n: int) -> tuple[list[str], list[str], list[str], str]:
    from xllm_harness.data.samples import SAMPLES_DIR
    from xllm_harness.tasks.flores_docs import read_lines

    shared = os.environ.get("XLLM_SHARED_DATA")
    root = Path(shared) / "flores101" if shared and (Path(shared) / "flores101").is_dir() else None
    origin = f"{root}/devtest (real FLORES-101)" if root else "bundled samples, repeated"
    root = root or SAMPLES_DIR / "flores101"
    src = read_lines(root / "devtest" / "eng.devtest")
    ref = read_lines(root / "devtest" / "ara.devtest")
    reps = -(-n // len(src))
    src, ref = (src * reps)[:n], (ref * reps)[:n]
    hyp = [ref[(i + 1) % n] if i % 2 else ref[i] for i in range(n)]
    return src, hyp, ref, origin


def run_side(side: str, model: Path, data: Path, device: str) -> dict:
    """One side's whole run in this process: load, then score every segment; timings and peaks."""
    samples = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    gpu = device.startswith("cuda")
    t0 = time.perf_counter()
    if side == "ours":
        from xllm_harness.plugins.metrics.comet import load_model
        from xllm_harness.plugins.metrics.comet.predict import predict

        scorer = load_model(str(model), device)
        loaded = time.perf_counter()
        scores = predict(scorer, samples, progress=False)["scores"]
    else:
        os.chdir(model)  # unbabel-comet finds `pretrained_model` (a relative folder) from here
        from comet import load_from_checkpoint

        net = load_from_checkpoint("checkpoints/model.ckpt", local_files_only=True)
        if gpu:
            net.half()  # as comet-score runs models
        loaded = time.perf_counter()
        scores = list(net.predict(samples, batch_size=16, gpus=1 if gpu else 0, progress_bar=False).scores)
    done = time.perf_counter()
    out = {"load_s": loaded - t0, "score_s": done - loaded, "scores": scores}
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if gpu:
        import torch

        out["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def bench_throughput(work: Path, comet_dir: Path, n: int, device: str, repeats: int, theirs: str) -> None:
    src, hyp, ref, origin = flores_segments(n)
    data = work / "segments.jsonl"
    data.write_text(
        "".join(
            json.dumps({"src": s, "mt": h, "ref": r}, ensure_ascii=False) + "\n"
            for s, h, r in zip(src, hyp, ref, strict=True)
        ),
        encoding="utf-8",
    )
    print(f"segments: {n} ({origin}); tiny COMET at {comet_dir}; {device}")
    runs: dict[str, list[dict]] = {"ours": [], "theirs": []}
    for _ in range(repeats):  # alternating, so other load on the machine hits both alike
        for side, python in (("theirs", theirs), ("ours", sys.executable)):
            result = work / f"{side}.json"
            cmd = [python, __file__, "--side", side, "--model", str(comet_dir), "--data", str(data)]
            cmd += ["--device", device, "--result", str(result)]
            subprocess.run(cmd, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
            runs[side].append(json.loads(result.read_text()))
    best = {side: min(r, key=lambda x: x["load_s"] + x["score_s"]) for side, r in runs.items()}
    diff = max(abs(a - b) for a, b in zip(best["ours"]["scores"], best["theirs"]["scores"], strict=True))
    precisions = "ours bf16, theirs fp16" if device.startswith("cuda") else "both fp32"
    print(f"largest segment score difference ({precisions}): {diff:.2e}")
    for side, label in (("theirs", "unbabel-comet 2.2.7 (parity env)"), ("ours", "ours (transformers 5)")):
        r = best[side]
        mem = f"peak RSS {r['peak_rss_mib']:7.0f} MiB" + (
            f", peak CUDA {r['peak_cuda_mib']:.0f} MiB" if "peak_cuda_mib" in r else ""
        )
        print(
            f"{label:34s} load {r['load_s']:6.2f} s  score {r['score_s']:6.2f} s  "
            f"{n / r['score_s']:8.1f} seg/s scoring, {n / (r['load_s'] + r['score_s']):8.1f} seg/s with load; {mem}"
        )
    o, t = best["ours"], best["theirs"]
    print(
        f"ratio ours/theirs: seg/s scoring {t['score_s'] / o['score_s']:.2f}x, with load "
        f"{(t['load_s'] + t['score_s']) / (o['load_s'] + o['score_s']):.2f}x; "
        f"peak RSS {o['peak_rss_mib'] / t['peak_rss_mib']:.2f}x of theirs"
    )


def bench_loads(work: Path, n_tasks: int, limit: int) -> None:
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    from xllm_harness.bridge.task_index import task_manager
    from xllm_harness.data.samples import SAMPLES_DIR, tokenizer_corpus
    from xllm_harness.models.tiny_llama import build_tiny_llama
    from xllm_harness.plugins.metrics import comet as comet_plugin
    from xllm_harness.scoring import score_folder
    from xllm_harness.testing.tiny_metric_models import build_tiny_comet

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
    parser.add_argument("--tasks", type=int, default=4, help="FLORES directions in the multi-task run")
    parser.add_argument("--limit", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs of each side")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda:0")
    parser.add_argument("--theirs-python", default=THEIRS_PYTHON, help="python of the parity environment")
    parser.add_argument("--skip-throughput", action="store_true", help="only count model loads")
    parser.add_argument("--skip-loads", action="store_true", help="only the throughput comparison")
    parser.add_argument("--side", choices=("ours", "theirs"), help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(var, "1")
    if args.side:
        args.result.write_text(json.dumps(run_side(args.side, args.model, args.data, args.device)))
        return
    from xllm_harness.data.samples import tokenizer_corpus
    from xllm_harness.testing.tiny_metric_models import build_tiny_comet

    with tempfile.TemporaryDirectory(prefix="bench_comet_") as tmp:
        work = Path(tmp)
        comet_dir = build_tiny_comet(work / "tiny-comet", tokenizer_corpus())
        if not args.skip_throughput:
            bench_throughput(work, comet_dir, args.segments, args.device, args.repeats, args.theirs_python)
        if not args.skip_loads:
            bench_loads(work, args.tasks, args.limit)


if __name__ == "__main__":
    main()
