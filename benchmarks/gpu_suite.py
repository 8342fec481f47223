"""Performance at real model sizes: trainer, COMET and evaluation, each against its baseline in one run.

    python benchmarks/gpu_suite.py --out gpu_results.json            # one GPU, under 8 minutes
    python benchmarks/gpu_suite.py --reduced --out cpu_results.json  # same code paths, tiny sizes, CPU

(a) trainer: ``xllm train`` (``--batching pack``, bf16, FSDP2 through accelerate under ``torchrun``) on
    a random Llama at 7B width (hidden 4096, 32 heads, intermediate 11008, vocabulary 32000) with as
    many layers as fill about half the GPU's memory, against transformers' ``Trainer`` (pad to
    longest, the same FSDP2 wrapping and bf16) with the same model, data, micro-batch, accumulation
    and steps. Data: the bundled CoIT samples (Alpaca en/zh, en→ar/el/vi translation) repeated, cut
    at length 512. Printed: tokens/s (non-padding input tokens over the timed steps, the first
    ``warmup`` steps excluded), MFU (6 × matmul parameters × tokens/s over the GPU's dense bf16 peak;
    the attention term, under 3 % at length 512, is left out), padding waste and peak memory of each.
(b) COMET: segments/s of our COMET path (cold: load + score in-process; warm: score only) against
    the ``comet-score`` CLI (start-up + load + score) on the 1012 FLORES devtest sentences
    (``$XLLM_SHARED_DATA/flores101``, else the bundled lines repeated), with a random
    XLM-R-large-shaped COMET checkpoint (24 layers, hidden 1024, 16 heads, estimator 3072-1024).
(c) evaluation: generated tokens/s of ``xllm eval`` against the ``lm_eval`` CLI on
    ``flores_xllm_en-zh`` (same limit, ``--batch_size auto``, chrF only) with a random 1B-shaped
    Llama (TinyLlama-1.1B's shape); the generations must be identical.

Every model is random (built here; no download): speed does not need trained weights. Each figure is
printed as a ratio against its baseline; all figures and settings go to ``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS))

CORPUS_SPEC = "alpaca_en+alpaca_zh+translation_en-ar+translation_en-el+translation_en-vi"
EVAL_TASK = "flores_xllm_en-zh"
# Dense bf16 tensor-core peaks (TFLOPS, no sparsity), from the vendors' data sheets; the most specific
# name that appears in the device name wins. A GPU not listed has no MFU unless --peak-tflops is given.
BF16_PEAK_TFLOPS = {
    "H200": 989.0,
    "H100 PCIe": 756.0,
    "H100 NVL": 835.0,
    "H100": 989.0,
    "GH200": 989.0,
    "A100": 312.0,
    "L40S": 362.0,
    "L4": 121.0,
    "A10G": 70.0,
}


@dataclass(frozen=True)
class Scale:
    """The sizes of one run of the suite."""

    name: str
    llama: dict  # LlamaConfig of the trainer's model, without the number of layers
    layers: int | None  # None: as many as fill about half the GPU's memory
    max_length: int
    micro_batch: int
    accumulation: int
    steps: int
    warmup: int
    repeat_data: int
    xlmr: dict  # the COMET encoder's XLMRobertaConfig
    estimator: list[int]
    segments: int
    comet_batch: int
    comet_repeats: int
    eval_llama: dict
    eval_limit: int
    max_gen_toks: int
    eval_max_batch: int | None  # --max_batch_size for --batch_size auto (None: lm-eval's default)
    tokenizer_vocab: int


GPU = Scale(
    name="gpu",
    llama=dict(
        hidden_size=4096,
        num_attention_heads=32,
        num_key_value_heads=32,
        intermediate_size=11008,
        vocab_size=32000,
    ),
    layers=None,
    max_length=512,
    micro_batch=4,
    accumulation=4,
    steps=14,
    warmup=4,
    repeat_data=4,
    xlmr=dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096),
    estimator=[3072, 1024],
    segments=1012,
    comet_batch=16,
    comet_repeats=2,
    eval_llama=dict(
        hidden_size=2048,
        num_hidden_layers=22,
        num_attention_heads=32,
        num_key_value_heads=4,
        intermediate_size=5632,
    ),
    eval_limit=200,
    max_gen_toks=128,
    eval_max_batch=None,
    tokenizer_vocab=8000,
)
REDUCED = Scale(
    name="reduced (CPU)",
    llama=dict(
        hidden_size=64, num_attention_heads=4, num_key_value_heads=4, intermediate_size=172, vocab_size=2048
    ),
    layers=2,
    max_length=128,
    micro_batch=4,
    accumulation=2,
    steps=6,
    warmup=2,
    repeat_data=1,
    xlmr=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64),
    estimator=[32],
    segments=64,
    comet_batch=16,
    comet_repeats=1,
    eval_llama=dict(
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=128,
    ),
    eval_limit=4,
    max_gen_toks=16,
    eval_max_batch=4,
    tokenizer_vocab=2048,
)


@dataclass
class Part:
    """One benchmark's figures: each ``ratios`` entry is ours / baseline (higher is better unless noted)."""

    name: str
    ours: dict = field(default_factory=dict)
    baseline: dict = field(default_factory=dict)
    ratios: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- models and data


def cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def corpus() -> list[str]:
    from xllm_harness.data.samples import tokenizer_corpus
    from xllm_harness.text.prompts import PROMPT_NO_INPUT, PROMPT_WITH_INPUT

    return tokenizer_corpus() + [PROMPT_WITH_INPUT, PROMPT_NO_INPUT] * 200


def matmul_parameters(config: dict, layers: int) -> int:
    """Parameters that take part in a matrix product per token: the decoder layers and the LM head."""
    h, i, v = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    kv = h * config["num_key_value_heads"] // config["num_attention_heads"]
    return layers * (2 * h * h + 2 * h * kv + 3 * h * i) + v * h


def layers_for_half_memory(config: dict, total_bytes: int, tokens_per_micro_batch: int) -> int:
    """Decoder layers whose training state (fp32 weights, gradients, 2 AdamW moments: 16 bytes per
    parameter) and bf16 activations (about 34·h bytes per token per layer) fill half of ``total_bytes``,
    after the embeddings, the LM head and the fp32 logits."""
    h, v = config["hidden_size"], config["vocab_size"]
    per_layer = (matmul_parameters(config, 1) - v * h) * 16 + 34 * h * tokens_per_micro_batch
    fixed = 2 * v * h * 16 + 3 * 4 * v * tokens_per_micro_batch
    return max(1, int((total_bytes / 2 - fixed) // per_layer))


def save_llama(folder: Path, tokenizer, config: dict, layers: int, device: str) -> Path:
    """A random Llama of this shape in bf16 (on ``device``, so big ones build fast), with ``tokenizer``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    full = LlamaConfig(
        **config,
        num_hidden_layers=layers,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(full).to(torch.bfloat16)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return folder


def build_coit_data(path: Path, repeat: int) -> dict:
    """The bundled CoIT samples (``CORPUS_SPEC``), repeated ``repeat`` times, as a ``.jsonl`` file."""
    from xllm_harness.data.samples import SAMPLES_DIR
    from xllm_harness.trainers.data import build, write_jsonl

    before = os.environ.get("XLLM_DATA_DIR")
    os.environ["XLLM_DATA_DIR"] = str(SAMPLES_DIR)  # the bundled samples, whatever data dir is set
    try:
        built = build(CORPUS_SPEC, seed=0)
    finally:
        os.environ.pop("XLLM_DATA_DIR")
        if before is not None:
            os.environ["XLLM_DATA_DIR"] = before
    write_jsonl(built.examples * repeat, path)
    return {"spec": CORPUS_SPEC, "examples": len(built.examples) * repeat, "repeated": repeat}


# --------------------------------------------------------------------------- (a) trainer


def worker(kind: str, job_file: Path) -> int:
    """Run one trainer measurement in this (fresh) process and write its figures to ``job["result"]``."""
    from bench_trainer import peak_memory_gb, run_hf_trainer, run_ours

    job = json.loads(job_file.read_text())
    sizes = {k: job[k] for k in ("micro_batch", "accumulation", "steps", "max_length")}
    if kind == "ours":
        figures = run_ours(
            Path(job["model"]),
            Path(job["out"]),
            job["data"],
            batching="pack",
            precision=job["precision"],
            sharding="fsdp" if job["fsdp"] else "auto",
            warmup_steps=job["warmup"],
            **sizes,
        )
    else:
        from xllm_harness.trainers.data import read_jsonl

        figures = run_hf_trainer(
            Path(job["model"]),
            Path(job["out"]),
            read_jsonl(job["data"]),
            bf16=job["precision"] == "bf16",
            fsdp_layer="LlamaDecoderLayer" if job["fsdp"] else None,
            warmup_steps=job["warmup"],
            **sizes,
        )
    figures["peak_memory_gb"], figures["memory_kind"] = peak_memory_gb()
    Path(job["result"]).write_text(json.dumps(figures))
    return 0


def run_worker(kind: str, job: dict, work: Path, log) -> dict:
    job_file = work / f"job-{kind}.json"
    job["result"] = str(work / f"result-{kind}.json")
    job_file.write_text(json.dumps(job))
    launcher = [sys.executable]
    if job["fsdp"]:  # accelerate's FSDP2 needs a process group, even of one process
        launcher += ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1"]
    cmd = [*launcher, str(Path(__file__).resolve()), "--worker", kind, "--job", str(job_file)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=bench_env())
    (work / f"{kind}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        log(proc.stderr[-3000:])
        raise SystemExit(f"trainer run '{kind}' failed (exit {proc.returncode}); log: {work / f'{kind}.log'}")
    return json.loads(Path(job["result"]).read_text())


def bf16_peak(device_name: str) -> float | None:
    """The dense bf16 peak (TFLOPS) of a GPU by its name: the longest table key it contains."""
    for key in sorted(BF16_PEAK_TFLOPS, key=len, reverse=True):
        if key in device_name:
            return BF16_PEAK_TFLOPS[key]
    return None


def peak_tflops(override: float | None) -> tuple[float | None, str]:
    """The peak MFU is computed against, and where it comes from."""
    if override:
        return override, "--peak-tflops"
    if not cuda():
        return None, "no GPU"
    import torch

    name = torch.cuda.get_device_name(0)
    peak = bf16_peak(name)
    return peak, name if peak else f"{name}: not in the table of bf16 peaks (give --peak-tflops)"


def bench_trainer(work: Path, scale: Scale, args, log) -> Part:
    import torch

    from xllm_harness.models.tiny_llama import build_tokenizer

    part = Part("trainer")
    on_gpu = cuda()
    tokens_per_micro = scale.micro_batch * scale.max_length
    if scale.layers is None:
        total = torch.cuda.get_device_properties(0).total_memory
        layers = layers_for_half_memory(scale.llama, total, tokens_per_micro)
    else:
        layers = scale.layers
    tokenizer = build_tokenizer(corpus(), scale.tokenizer_vocab)
    model = save_llama(work / "llama-7b-width", tokenizer, scale.llama, layers, "cuda" if on_gpu else "cpu")
    data = work / "coit.jsonl"
    part.notes.append(f"data: {build_coit_data(data, scale.repeat_data)}")
    n_matmul = matmul_parameters(scale.llama, layers)
    part.notes.append(
        f"model: random Llama, {layers} layers of {scale.llama}, {n_matmul:,} matmul parameters"
    )
    job = dict(
        model=str(model),
        data=str(data),
        micro_batch=scale.micro_batch,
        accumulation=scale.accumulation,
        steps=scale.steps,
        warmup=scale.warmup,
        max_length=scale.max_length,
        precision="bf16" if on_gpu else "no",
        fsdp=on_gpu,
    )
    log(
        f"trainer: {layers} layers, micro-batch {scale.micro_batch} × accumulation {scale.accumulation}, "
        f"{scale.steps} steps ({scale.warmup} untimed), length {scale.max_length}"
    )
    baseline_fsdp = on_gpu and args.baseline == "fsdp2"
    if on_gpu and not baseline_fsdp:
        part.notes.append("baseline without FSDP (--baseline plain): one GPU, bf16 autocast")
    part.baseline = run_worker("hf", {**job, "fsdp": baseline_fsdp, "out": str(work / "hf-out")}, work, log)
    part.ours = run_worker("ours", {**job, "out": str(work / "ours-out")}, work, log)
    peak, peak_source = peak_tflops(args.peak_tflops)
    for figures in (part.ours, part.baseline):
        figures["tokens_per_s"] = figures["tokens"] / figures["seconds"]
        figures["mfu"] = 6 * n_matmul * figures["tokens_per_s"] / (peak * 1e12) if peak else None
    part.notes.append(f"bf16 peak: {peak} TFLOPS ({peak_source})")
    part.ratios = {
        "tokens_per_s": part.ours["tokens_per_s"] / part.baseline["tokens_per_s"],
        "padding_waste (lower is better)": _ratio(part.ours["waste"], part.baseline["waste"]),
        "peak_memory (lower is better)": part.ours["peak_memory_gb"] / part.baseline["peak_memory_gb"],
    }
    if peak:
        part.ratios["mfu"] = part.ours["mfu"] / part.baseline["mfu"]
    return part


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


# --------------------------------------------------------------------------- (b) COMET


def build_comet(out: Path, texts: list[str], scale: Scale, vocab: int) -> Path:
    """A random COMET ``RegressionMetric`` with an XLM-R encoder of ``scale.xlmr``'s shape, built by the
    tests' builder (same checkpoint layout)."""
    from xllm_harness.testing.tiny_metric_models import build_tiny_comet

    return build_tiny_comet(out, texts, encoder_shape=scale.xlmr, estimator=scale.estimator, vocab_size=vocab)


def bench_comet(work: Path, scale: Scale, args, log) -> Part:
    from bench_comet import flores_segments

    from xllm_harness.plugins.metrics.comet import Comet

    part = Part("comet")
    device = "cuda:0" if cuda() else "cpu"
    os.environ["XLLM_COMET_PRECISION"] = "fp16"
    src, hyp, ref, origin = flores_segments(scale.segments)
    comet_dir = build_comet(work / "comet", src + ref, scale, scale.tokenizer_vocab)
    files = {}
    for name, lines in (("src", src), ("hyp", hyp), ("ref", ref)):
        files[name] = work / f"{name}.txt"
        files[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli_json = work / "comet-cli.json"
    cmd = [
        str(args.comet_score),
        "-s",
        str(files["src"]),
        "-t",
        str(files["hyp"]),
        "-r",
        str(files["ref"]),
        "--model",
        str(comet_dir / "checkpoints" / "model.ckpt"),
        "--gpus",
        "1" if device.startswith("cuda") else "0",
        "--batch_size",
        str(scale.comet_batch),
        "--quiet",
        "--to_json",
        str(cli_json),
    ]
    log(f"comet: {scale.segments} segments ({origin}), encoder {scale.xlmr}, {device}, fp16")
    metric = Comet(model=str(comet_dir), batch_size=scale.comet_batch, device=device)
    refs = [[r] for r in ref]
    baseline = args.comet_score is not None and Path(args.comet_score).is_file()
    cli_s, ours_s = [], []
    for _ in range(scale.comet_repeats):  # alternating, so other load on the machine hits both alike
        if baseline:
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=bench_env())
            if proc.returncode != 0:
                (work / "comet-score.log").write_text(proc.stdout + proc.stderr)
                log(f"comet-score failed (exit {proc.returncode}); log: {work / 'comet-score.log'}")
                baseline = False
            else:
                cli_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        ours = metric.corpus_score(hyp, refs, sources=src)
        ours_s.append(time.perf_counter() - start)
    start = time.perf_counter()
    metric.corpus_score(hyp, refs, sources=src)
    warm = min([time.perf_counter() - start, *ours_s[1:]])
    n = scale.segments
    part.ours = {
        "cold_seconds": ours_s[0],
        "cold_segments_per_s": n / ours_s[0],
        "warm_seconds": warm,
        "warm_segments_per_s": n / warm,
        "system_score": ours.score,
    }
    if not baseline:
        part.notes.append(
            f"no comet-score baseline: {args.comet_score} did not run (unbabel-comet does not install "
            "beside transformers 5: build the parity environment, bash scripts/parity/setup.sh, or pass "
            "--comet-score PATH)"
        )
        return part
    cli_scores = [seg["COMET"] for seg in next(iter(json.loads(cli_json.read_text()).values()))]
    cli_system = 100 * sum(cli_scores) / len(cli_scores)
    part.baseline = {
        "seconds": min(cli_s),
        "segments_per_s": n / min(cli_s),
        "system_score": cli_system,
        "what": "comet-score CLI (unbabel-comet 2.2.7, parity environment): start-up + load + score",
    }
    part.ratios = {"segments_per_s cold": min(cli_s) / ours_s[0], "segments_per_s warm": min(cli_s) / warm}
    part.notes.append(f"|system score difference| {abs(cli_system - ours.score):.2e}")
    if abs(cli_system - ours.score) > 1e-2:
        part.notes.append("WARNING: the two paths disagree on the system score")
    return part


# --------------------------------------------------------------------------- (c) evaluation


def bench_eval(work: Path, scale: Scale, args, log) -> Part:
    from transformers import AutoTokenizer

    from xllm_harness.metric_inputs import sample_response
    from xllm_harness.models.tiny_llama import build_tokenizer
    from xllm_harness.results.lm_eval import read_sample_lines, sample_files

    part = Part("eval")
    on_gpu = cuda()
    tokenizer = build_tokenizer(corpus(), scale.tokenizer_vocab)
    layers = scale.eval_llama["num_hidden_layers"]
    # the model's vocabulary is the tokenizer's, so every generated id decodes (and counts)
    shape = {k: v for k, v in scale.eval_llama.items() if k != "num_hidden_layers"}
    shape["vocab_size"] = len(tokenizer)
    model = save_llama(work / "llama-1b", tokenizer, shape, layers, "cuda" if on_gpu else "cpu")
    tok = AutoTokenizer.from_pretrained(model)
    dtype = "bfloat16" if on_gpu else "float32"
    common = [
        "--model",
        "hf",
        "--model_args",
        f"pretrained={model},dtype={dtype}",
        "--tasks",
        EVAL_TASK,
        "--limit",
        str(scale.eval_limit),
        "--batch_size",
        "auto",
        "--device",
        "cuda:0" if on_gpu else "cpu",
        "--gen_kwargs",
        f"max_gen_toks={scale.max_gen_toks}",
        "--log_samples",
        "--metadata",
        json.dumps({"metrics": "chrf"}),
    ]
    if scale.eval_max_batch:  # on a CPU, auto-detection from lm-eval's 64 down costs minutes
        common += ["--max_batch_size", str(scale.eval_max_batch)]
    routes = {
        "xllm eval": [sys.executable, "-m", "xllm_harness.cli", "eval"],
        "lm_eval": [sys.executable, "-m", "lm_eval"],
    }
    log(
        f"eval: {EVAL_TASK}, limit {scale.eval_limit}, max_gen_toks {scale.max_gen_toks}, 1B-shaped Llama "
        f"({layers} layers of {shape}), --batch_size auto"
    )
    figures, texts = {}, {}
    for name, prefix in routes.items():
        out = work / f"eval-{name.replace(' ', '-')}"
        start = time.perf_counter()
        proc = subprocess.run(
            [*prefix, *common, "--output_path", str(out)],
            capture_output=True,
            text=True,
            env=bench_env(),
            cwd=work,
        )
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{name} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        lines = read_sample_lines(sample_files(out)[EVAL_TASK])
        texts[name] = [sample_response(r, name) for r in lines]
        generated = sum(len(tok(t, add_special_tokens=False)["input_ids"]) for t in texts[name])
        figures[name] = {
            "seconds": seconds,
            "generated_tokens": generated,
            "documents": len(lines),
            "tokens_per_s": generated / seconds,
        }
    part.ours, part.baseline = figures["xllm eval"], figures["lm_eval"]
    part.ratios = {"generated tokens_per_s": part.ours["tokens_per_s"] / part.baseline["tokens_per_s"]}
    part.notes.append(
        "wall time of each command (start-up, model load, generation, scoring); generated tokens are the "
        f"responses re-tokenized; identical generations: {texts['xllm eval'] == texts['lm_eval']}"
    )
    return part


# --------------------------------------------------------------------------- the suite

PARTS = {"trainer": bench_trainer, "comet": bench_comet, "eval": bench_eval}


def bench_env() -> dict[str, str]:
    from xllm_harness.data.samples import SAMPLES_DIR

    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    env.setdefault("XLLM_DATA_DIR", str(SAMPLES_DIR))
    return env


def report(part: Part) -> str:
    def show(values: dict) -> str:
        return ", ".join(f"{k} {_fmt(v)}" for k, v in values.items())

    lines = [f"[{part.name}]", f"  ours     : {show(part.ours)}", f"  baseline : {show(part.baseline)}"]
    lines += [f"  ratio {k}: {_fmt(v)}" for k, v in part.ratios.items()]
    lines += [f"  note: {n}" for n in part.notes]
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.4g}"
    return "n/a" if value is None else str(value)


def device_description() -> dict:
    import torch

    info = {
        "torch": torch.__version__,
        "cuda": torch.cuda.is_available(),
        "cpu_threads": torch.get_num_threads(),
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(gpu=props.name, gpu_memory_gb=round(props.total_memory / 2**30, 1))
    return info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gpu_results.json", help="JSON file of all figures")
    parser.add_argument("--reduced", "--scale-cpu", action="store_true", help="tiny sizes on CPU (~2 min)")
    parser.add_argument("--parts", default="trainer,eval,comet", help="comma-separated: trainer, eval, comet")
    parser.add_argument(
        "--peak-tflops", type=float, default=None, help="the GPU's dense bf16 peak, if not in the table"
    )
    parser.add_argument(
        "--baseline",
        choices=["fsdp2", "plain"],
        default="fsdp2",
        help="the Trainer baseline on a GPU: the same FSDP2 wrapping as ours (default), or none",
    )
    parser.add_argument(
        "--comet-score",
        type=Path,
        default=Path(__file__).resolve().parents[1] / ".venv-parity" / "bin" / "comet-score",
        help="unbabel-comet's comet-score (the parity environment's, scripts/parity/setup.sh), the COMET baseline",
    )
    parser.add_argument("--work", default=None, help="keep the models and logs in this folder")
    parser.add_argument("--worker", choices=["ours", "hf"], help=argparse.SUPPRESS)
    parser.add_argument("--job", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    for var, value in bench_env().items():
        os.environ.setdefault(var, value)
    if args.worker:
        return worker(args.worker, args.job)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"--parts: unknown {', '.join(unknown)}; use {', '.join(PARTS)}")
    if not args.reduced and not cuda():
        parser.error("no GPU here: run with --reduced for the CPU check of the same code paths")
    scale = REDUCED if args.reduced else GPU

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "scale": asdict(scale),
        "device": device_description(),
        "parts": {},
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gpu_suite_", dir=args.work) as tmp:
        for name in parts:
            work = Path(tmp) / name
            work.mkdir()
            t0 = time.perf_counter()
            part = PARTS[name](work, scale, args, log)
            part.notes.append(f"part wall time {time.perf_counter() - t0:.0f} s")
            print(report(part), flush=True)
            results["parts"][name] = asdict(part)
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"suite wall time {results['wall_seconds']:.0f} s; figures written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
