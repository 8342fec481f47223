"""Our BLEURT against bleurt-pytorch 0.0.1: segments/s and peak memory, each in its own environment.

    python benchmarks/bench_bleurt.py [--parity-python /work/parity-venv/bin/python] [--segments 1012]
        [--shape tiny|d12|bleurt20] [--device cpu|cuda:0] [--precision fp32|bf16|fp16] [--devices cuda:0,cuda:1]

One run builds a random BLEURT checkpoint in bleurt-pytorch's format (our writer,
``build_tiny_bleurt``: SentencePiece ``spm.model`` and BLEURT-20's embedding projection), then scores the
FLORES-101 devtest pairs (Arabic references, a shifted Arabic "system"; ``$XLLM_SHARED_DATA/flores101`` or
the bundled samples repeated) twice, each side as a subprocess in its own environment:

- theirs: ``bleurt_pytorch`` in the parity environment (``--parity-python``), scored as the former plugin
  did: sorted by length, 16 pairs a batch, ``padding="longest"``, truncation to 512, float32;
- ours: ``xllm_harness.plugins.metrics.bleurt`` in this interpreter's environment: batches bucketed by
  length and sized by tokens, ``--precision`` (GPU: bf16/fp16 through torch's SDPA kernels), and with
  ``--devices`` one process per device.

Printed: seconds and segments/s of scoring (model loaded; best of ``--repeats``) and of the whole
subprocess, peak memory (CPU: max RSS; GPU: peak allocated), the ratios ours/theirs, and the largest
segment-score difference (fp32 must stay under 1e-5).
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

SHAPES = {  # encoder shapes: tiny for CPU; the other two like BLEURT-20-D12 and BLEURT-20 (RemBERT-sized)
    "tiny": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "embedding_size": 16},
    "d12": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "embedding_size": 128},
    "bleurt20": {
        "hidden_size": 1152,
        "num_hidden_layers": 32,
        "num_attention_heads": 18,
        "intermediate_size": 4608,
        "embedding_size": 256,
    },
}


def _peak_memory(device: str) -> int:
    import resource

    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.max_memory_allocated(device))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


def worker_theirs(args: argparse.Namespace, refs: list[str], hyps: list[str]) -> dict:
    """bleurt-pytorch 0.0.1 as the former plugin ran it (runs in the parity environment)."""
    import torch
    from bleurt_pytorch import BleurtForSequenceClassification, BleurtTokenizer

    start = time.perf_counter()
    net = BleurtForSequenceClassification.from_pretrained(args.folder).eval().to(args.device)
    tok = BleurtTokenizer.from_pretrained(args.folder)
    load = time.perf_counter() - start

    def run() -> list[float]:
        order = sorted(range(len(refs)), key=lambda i: len(refs[i]) + len(hyps[i]))
        scores = [0.0] * len(refs)
        with torch.inference_mode():
            for s in range(0, len(order), 16):
                ids = order[s : s + 16]
                inputs = tok(
                    [refs[i] for i in ids],
                    [hyps[i] for i in ids],
                    padding="longest",
                    truncation=True,
                    max_length=512,
                    return_tensors="pt",
                ).to(args.device)
                for i, v in zip(ids, net(**inputs).logits.float().view(-1).tolist(), strict=True):
                    scores[i] = v
        return scores

    return {"load_s": load, **_timed(run, args)}


def worker_ours(args: argparse.Namespace, refs: list[str], hyps: list[str]) -> dict:
    import torch  # noqa: F401  (imported before the load is timed, as on their side)

    from xllm_harness.plugins.metrics.bleurt import Bleurt, load_model

    devices = args.devices or args.device
    metric = Bleurt(model=args.folder, device=devices, precision=args.precision)
    start = time.perf_counter()
    if "," not in devices:
        load_model(args.folder, args.device, args.precision)
    load = time.perf_counter() - start
    result: dict = {"load_s": load}

    def run() -> list[float]:
        return metric._segment_scores(hyps, [[r] for r in refs])

    return result | _timed(run, args)


def _timed(run, args: argparse.Namespace) -> dict:
    best, scores = float("inf"), []
    for _ in range(args.repeats):
        _sync(args.device)
        start = time.perf_counter()
        scores = run()
        _sync(args.device)
        best = min(best, time.perf_counter() - start)
    return {"score_s": best, "scores": scores, "peak_bytes": _peak_memory(args.device)}


def flores_pairs(n: int) -> tuple[list[str], list[str], str]:
    from xllm_harness.data.samples import SAMPLES_DIR
    from xllm_harness.tasks.flores_docs import read_lines

    shared = os.environ.get("XLLM_SHARED_DATA")
    root = Path(shared) / "flores101" if shared and (Path(shared) / "flores101").is_dir() else None
    origin = f"{root}/devtest (real FLORES-101)" if root else "bundled samples, repeated"
    ref = read_lines((root or SAMPLES_DIR / "flores101") / "devtest" / "ara.devtest")
    ref = (ref * -(-n // len(ref)))[:n]
    return ref, [ref[(i + 1) % n] if i % 2 else ref[i] for i in range(n)], origin


def _run(python: str, args: argparse.Namespace, side: str, folder: Path, pairs: Path, out: Path) -> dict:
    cmd = [python, __file__, "--worker", side, "--folder", str(folder), "--pairs", str(pairs)]
    cmd += [
        "--out",
        str(out),
        "--device",
        args.device,
        "--precision",
        args.precision,
        "--repeats",
        str(args.repeats),
    ]
    if args.devices and side == "ours":
        cmd += ["--devices", args.devices]
    start = time.perf_counter()
    subprocess.run(
        cmd, check=True, env={**os.environ, "TOKENIZERS_PARALLELISM": "false", "TQDM_DISABLE": "1"}
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    return result | {"total_s": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--parity-python", default=os.environ.get("PARITY_PYTHON", "/work/parity-venv/bin/python")
    )
    parser.add_argument("--segments", type=int, default=1012)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--devices", default=None, help="ours only: comma-separated devices (data parallel)")
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32", help="ours only")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--worker", choices=("ours", "theirs"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--pairs", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        data = json.loads(Path(args.pairs).read_text(encoding="utf-8"))
        work = worker_theirs if args.worker == "theirs" else worker_ours
        Path(args.out).write_text(json.dumps(work(args, data["refs"], data["hyps"])), encoding="utf-8")
        return

    from xllm_harness.testing.tiny_metric_models import build_tiny_bleurt

    refs, hyps, origin = flores_pairs(args.segments)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder = build_tiny_bleurt(
            work / "bleurt",
            refs[:400] + hyps[:100],
            tokenizer="sentencepiece",
            vocab_size=4000,
            **SHAPES[args.shape],
        )
        pairs = work / "pairs.json"
        pairs.write_text(json.dumps({"refs": refs, "hyps": hyps}), encoding="utf-8")
        print(
            f"{len(refs)} pairs ({origin}); BLEURT shape {args.shape} {SHAPES[args.shape]}; device {args.device}"
        )
        theirs = _run(args.parity_python, args, "theirs", folder, pairs, work / "theirs.json")
        ours = _run(sys.executable, args, "ours", folder, pairs, work / "ours.json")
    n = len(refs)
    diff = max(abs(a - b) for a, b in zip(ours["scores"], theirs["scores"], strict=True))
    label = f"ours ({args.precision}{', ' + args.devices if args.devices else ''})"
    for name, r in (("bleurt-pytorch 0.0.1 (fp32)", theirs), (label, ours)):
        print(
            f"{name:34s} load {r['load_s']:6.2f} s  score {r['score_s']:7.3f} s = {n / r['score_s']:8.1f} seg/s  "
            f"whole process {r['total_s']:6.2f} s  peak memory {r['peak_bytes'] / 2**20:8.1f} MiB"
        )
    print(
        f"ratios ours/theirs: speed (seg/s) {theirs['score_s'] / ours['score_s']:.2f}x, whole process "
        f"{theirs['total_s'] / ours['total_s']:.2f}x, peak memory {ours['peak_bytes'] / theirs['peak_bytes']:.2f}"
    )
    print(
        f"largest segment-score difference: {diff:.2e}"
        + (" (fp32: must be < 1e-5)" if args.precision == "fp32" else "")
    )


if __name__ == "__main__":
    main()
