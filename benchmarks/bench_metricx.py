"""MetricX-24 speed and peak memory: our code (transformers 5) vs Google's ``metricx24.predict``.

    python benchmarks/bench_metricx.py --metricx-repo /path/to/metricx \\
        --google-python /path/to/reference-venv/bin/python [--sizes tiny,small] [--segments 64] \\
        [--batch-size 8] [--dtype fp32,bf16] [--device cpu|cuda:0] [--device-map auto]

Each side runs in its own process and environment on the same segments and the same random
checkpoint: Google's code as its README runs it (batch size 1; its Trainer's default collator cannot
stack inputs of different lengths), ours with length-bucketed batches of ``--batch-size``. Printed per
size and dtype: whole-run segments/s (start-up, load and scoring), ours also scoring-only, the
speed-up (Google's whole-run time / ours), peak memory (GPU: ``torch.cuda.max_memory_allocated``; CPU: the process's peak resident memory, VmHWM), and
the largest score difference (fp32 must agree to 1e-5; Google's side runs in the checkpoint's dtype,
so bf16 rows compare our bf16 to Google's fp32).

Sizes are random checkpoints with MetricX-24's shapes (mT5's 250,112-token vocabulary): ``tiny``
(d_model 32), ``small`` (d_model 256, 4+4 layers), ``large`` / ``xl`` / ``xxl`` (the released models'
shapes: 1.2B, 3.7B, 13B parameters). A size whose fp32 weights do not fit in memory is skipped with
the reason. The text is FLORES-101 devtest (``$XLLM_SHARED_DATA/flores101``) tokenized with the
fixtures' small SentencePiece model (the real mT5 tokenizer cannot be downloaded here), so token
counts differ from the real models'; the real model on a GPU: pass ``--model`` and ``--tokenizer``.
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

ROOT = Path(__file__).resolve().parents[1]
TOKENIZER = ROOT / "tests" / "fixtures" / "metricx" / "tokenizer"
SHAPES = {
    "tiny": {"d_model": 32, "d_ff": 64, "d_kv": 8, "num_heads": 4, "num_layers": 2, "num_decoder_layers": 2},
    "small": {
        "d_model": 256,
        "d_ff": 704,
        "d_kv": 64,
        "num_heads": 4,
        "num_layers": 4,
        "num_decoder_layers": 4,
    },
    "large": {
        "d_model": 1024,
        "d_ff": 2816,
        "d_kv": 64,
        "num_heads": 16,
        "num_layers": 24,
        "num_decoder_layers": 24,
    },
    "xl": {
        "d_model": 2048,
        "d_ff": 5120,
        "d_kv": 64,
        "num_heads": 32,
        "num_layers": 24,
        "num_decoder_layers": 24,
    },
    "xxl": {
        "d_model": 4096,
        "d_ff": 10240,
        "d_kv": 64,
        "num_heads": 64,
        "num_layers": 24,
        "num_decoder_layers": 24,
    },
}
VOCAB = 250112


def parameters(shape: dict[str, int]) -> int:
    """Parameter count of an mT5 with this shape (gated-GELU, untied output)."""
    d, f, h, k = shape["d_model"], shape["d_ff"], shape["num_heads"], shape["d_kv"]
    attention, ff = 4 * d * h * k, 3 * d * f
    encoder = shape["num_layers"] * (attention + ff + 2 * d)
    decoder = shape["num_decoder_layers"] * (2 * attention + ff + 3 * d)
    return 2 * VOCAB * d + encoder + decoder


def segments(n: int) -> list[dict[str, str]]:
    root = Path(os.environ.get("XLLM_SHARED_DATA", "/work/shared/data")) / "flores101" / "devtest"
    src = (root / "eng.devtest").read_text(encoding="utf-8").splitlines()
    ref = (root / "zho_simpl.devtest").read_text(encoding="utf-8").splitlines()
    return [
        {"source": src[i], "hypothesis": ref[(i + i % 2) % len(ref)], "reference": ref[i]} for i in range(n)
    ]


def build(size: str, out: Path) -> Path:
    """A random checkpoint of ``size`` laid out as the released ones: ``shared`` and an untied ``lm_head``
    in ``model.safetensors``, a config.json naming MT5ForRegression with ``tie_word_embeddings: false``
    (transformers 5's MT5Config would write true, and Google's code would then rescale)."""
    import torch
    from safetensors.torch import save_file
    from transformers import MT5Config, MT5ForConditionalGeneration

    torch.manual_seed(0)
    config = MT5Config(vocab_size=VOCAB, feed_forward_proj="gated-gelu", dropout_rate=0.0, **SHAPES[size])
    model = MT5ForConditionalGeneration(config)
    state = {
        k: v.contiguous() for k, v in model.state_dict().items() if not k.endswith("embed_tokens.weight")
    }
    state["lm_head.weight"] = torch.randn(VOCAB, config.d_model) * 30.0 / config.d_model  # scores mostly > 0
    out.mkdir(parents=True)
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    raw = {**config.to_dict(), "architectures": ["MT5ForRegression"], "tie_word_embeddings": False}
    (out / "config.json").write_text(json.dumps(raw, indent=2))
    return out


def peak_memory_mb(device: str) -> float:
    if device.startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return _vm_hwm_mb()


def _vm_hwm_mb() -> float:
    """This process's peak resident memory (``VmHWM``; ``ru_maxrss`` would include the parent's, which
    Linux carries over fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker(args: argparse.Namespace) -> None:
    """Our side, in this environment: load, score, report as JSON on stdout."""
    from xllm_harness.metrics import get_metric
    from xllm_harness.plugins.metrics.metricx import model as backend

    rows = [json.loads(line) for line in Path(args.inputs).read_text(encoding="utf-8").splitlines()]
    metric = get_metric("metricx")(
        model=args.model,
        tokenizer=args.tokenizer,
        batch_size=args.batch_size,
        device=None if args.device_map else args.device,
        dtype=args.worker_dtype,
        device_map=args.device_map,
        progress=False,
    )
    started = time.perf_counter()
    folder, tokenizer = metric._resolved()
    backend.load(folder, tokenizer, metric.dtype, metric.device, metric.device_map)
    loaded = time.perf_counter()
    scores = metric.statistics(
        [r["hypothesis"] for r in rows], [[r["reference"]] for r in rows], [r["source"] for r in rows]
    )[:, 0]
    done = time.perf_counter()
    report = {"load_s": loaded - started, "score_s": done - loaded, "peak_mb": peak_memory_mb(args.device)}
    print(json.dumps({**report, "scores": scores.tolist()}))


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode:
        sys.exit(f"{' '.join(cmd[:3])}... failed:\n{done.stderr[-3000:]}")
    return done


def run_ours(args, model: Path, inputs: Path, dtype: str) -> dict:
    cmd = [sys.executable, __file__, "--worker", "--inputs", str(inputs), "--model", str(model)]
    cmd += ["--tokenizer", args.tokenizer, "--batch-size", str(args.batch_size), "--device", args.device]
    cmd += ["--worker-dtype", dtype] + (["--device-map", args.device_map] if args.device_map else [])
    started = time.perf_counter()
    out = _run(cmd).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - started
    return result


def run_google(args, model: Path, inputs: Path, work: Path) -> dict:
    output = work / "google.jsonl"
    code = (
        "import runpy, sys, json, torch;"
        "sys.argv = ['predict'] + sys.argv[1:];"
        "runpy.run_module('metricx24.predict', run_name='__main__');"
        "peak = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else "
        "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1]) / 1024;"
        "print(json.dumps({'peak_mb': peak}))"
    )
    cmd = [args.google_python, "-c", code, f"--tokenizer={args.tokenizer}", f"--model_name_or_path={model}"]
    cmd += ["--max_input_length=1536", "--batch_size=1", f"--input_file={inputs}", f"--output_file={output}"]
    env = {**os.environ, "PYTHONPATH": str(Path(args.metricx_repo).resolve())}
    if not args.device.startswith("cuda"):
        env["CUDA_VISIBLE_DEVICES"] = ""
    started = time.perf_counter()
    out = _run(cmd, env=env, cwd=work).stdout
    wall = time.perf_counter() - started
    scores = [json.loads(line)["prediction"] for line in output.read_text(encoding="utf-8").splitlines()]
    return {"wall_s": wall, "peak_mb": json.loads(out.strip().splitlines()[-1])["peak_mb"], "scores": scores}


def fits(size: str, device: str) -> str | None:
    """Why ``size`` cannot be built and run here (fp32 weights, twice: building and loading), or None."""
    need = parameters(SHAPES[size]) * 4 * 2 / 2**30
    if device.startswith("cuda"):
        import torch

        have = torch.cuda.get_device_properties(0).total_memory / 2**30
    else:
        have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return None if need < 0.8 * have else f"needs ~{need:.0f} GiB, {have:.0f} GiB here"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", help=argparse.SUPPRESS)
    parser.add_argument("--worker-dtype", default="auto", help=argparse.SUPPRESS)
    parser.add_argument(
        "--model", default=None, help="a real MetricX-24 folder or hub id instead of random sizes"
    )
    parser.add_argument("--tokenizer", default=str(TOKENIZER))
    parser.add_argument("--metricx-repo", help="checkout of google-research/metricx (Google's side)")
    parser.add_argument("--google-python", help="python of an environment where Google's code runs")
    parser.add_argument("--sizes", default="tiny,small")
    parser.add_argument("--segments", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--dtype", default="fp32,bf16", help="our precisions to run: fp32, bf16")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--device-map", default=None, help="e.g. auto: shard our model over the GPUs")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return 0
    google = bool(args.metricx_repo and args.google_python)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        inputs = work / "inputs.jsonl"
        inputs.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in segments(args.segments)))
        print(
            f"{args.segments} FLORES-101 segments (eng source, zho references); device {args.device}; "
            f"ours: batch size {args.batch_size}; Google's: batch size 1" + ("" if google else " (not run)")
        )
        header = f"{'size':6s} {'params':>7s} {'dtype':5s} {'ours seg/s':>10s} {'(scoring)':>9s} "
        header += (
            f"{'Google seg/s':>12s} {'speedup':>7s} {'ours MB':>8s} {'Google MB':>9s} {'max |diff|':>10s}"
        )
        print(header)
        for size in [args.model] if args.model else args.sizes.split(","):
            reason = None if args.model else fits(size, args.device)
            if reason:
                print(f"{size:6s} skipped: {reason}")
                continue
            model = Path(args.model) if args.model else build(size, work / size)
            params = "" if args.model else f"{parameters(SHAPES[size]) / 1e9:.2f}B"
            theirs = run_google(args, model, inputs, work) if google else None
            for dtype in args.dtype.split(","):
                ours = run_ours(args, model, inputs, dtype)
                n = args.segments
                line = f"{size:6s} {params:>7s} {dtype:5s} {n / ours['wall_s']:10.2f} {n / ours['score_s']:9.2f} "
                if theirs:
                    diff = max(abs(a - b) for a, b in zip(ours["scores"], theirs["scores"], strict=True))
                    line += f"{n / theirs['wall_s']:12.2f} {theirs['wall_s'] / ours['wall_s']:7.2f} "
                    line += f"{ours['peak_mb']:8.0f} {theirs['peak_mb']:9.0f} {diff:10.2e}"
                else:
                    line += f"{'':12s} {'':7s} {ours['peak_mb']:8.0f}"
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
