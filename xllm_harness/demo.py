"""The built-in demo: the paper's pipeline end to end on a tiny model, offline, in a few CPU minutes.

1. build a tiny Llama (tokenizer trained on the bundled samples) — the *untrained twin*;
2. CoIT-train a copy with ``xllm train`` on bundled Alpaca (en, zh) + English→X translation data;
3. evaluate both through lm-eval (``xllm eval`` route) on the QA and FLORES tasks over the bundled
   samples, with ``--log_samples``;
4. print the leaderboard (Markdown) and write it as CSV and HTML.

Scores of a tiny model on samples mean nothing about the paper: the demo shows the machinery.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from xllm_harness.errors import XllmError

QA_TASKS = [
    "xquad_xllm_ar",
    "xquad_xllm_el",
    "xquad_xllm_hi",
    "xquad_xllm_tr",
    "xquad_xllm_vi",
    "xquad_xllm_zh",
]
FLORES_TASKS = [
    "flores_xllm_en-ar",
    "flores_xllm_en-el",
    "flores_xllm_en-vi",
    "flores_xllm_en-zh",
    "flores_xllm_ar-en",
]
TRAIN_SPEC = "alpaca_en+alpaca_zh+translation_en-ar+translation_en-el+translation_en-vi"


def _stage(n: int, total: int, text: str) -> None:
    print(f"\n[{n}/{total}] {text}", file=sys.stderr, flush=True)


def run_demo(out: Path, *, limit: int = 8, max_steps: int = 60, max_gen_toks: int = 24) -> Path:
    """Run the demo into ``out``; returns the leaderboard folder."""
    from xllm_harness.cli import main
    from xllm_harness.samples import SAMPLES_DIR, tokenizer_corpus
    from xllm_harness.testing.tiny_models import build_tiny_llama

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ["XLLM_DATA_DIR"] = str(SAMPLES_DIR)
    from xllm_harness.metric_models import spm_model_path

    if spm_model_path().is_file():
        os.environ.setdefault("XLLM_FLORES_METRICS", "spbleu,chrf")
    else:  # offline without sacrebleu's FLORES-101 SentencePiece model: chrF++ only, said out loud
        print(
            f"note: {spm_model_path()} is absent, so FLORES is scored with chrF++ only (see docs/offline-models.md)",
            file=sys.stderr,
        )
        os.environ.setdefault("XLLM_FLORES_METRICS", "chrf")
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    _stage(1, 4, "building a tiny Llama (random weights, tokenizer trained on the bundled samples)")
    base = build_tiny_llama(
        out / "tiny-untrained", tokenizer_corpus(), hidden_size=96, layers=2, vocab_size=1024
    )

    _stage(2, 4, f"CoIT training a copy with `xllm train` on {TRAIN_SPEC} (bundled samples)")
    tuned = out / "tiny-coit"
    code = main(
        [
            "train", "--model", str(base), "--output-dir", str(tuned), "--data", TRAIN_SPEC,
            "--max-steps", str(max_steps), "--learning-rate", "3e-3", "--effective-batch", "16",
            "--micro-batch", "8", "--max-length", "256", "--save-every", "0", "--resume", "never",
        ]
    )  # fmt: skip
    if code != 0:
        raise XllmError("demo: training failed (see the messages above)")

    _stage(
        3,
        4,
        f"evaluating both models through lm-eval on {len(QA_TASKS) + len(FLORES_TASKS)} tasks (limit {limit})",
    )
    results = out / "results"
    for model in (base, tuned):
        code = main(
            [
                "eval", "--model", "hf", "--model_args", f"pretrained={model},dtype=float32", "--device", "cpu",
                "--tasks", ",".join(QA_TASKS + FLORES_TASKS), "--limit", str(limit),
                "--gen_kwargs", f"max_gen_toks={max_gen_toks}", "--output_path", str(results), "--log_samples",
            ]
        )  # fmt: skip
        if code != 0:
            raise XllmError(f"demo: evaluation of {model} failed")

    _stage(4, 4, "leaderboard")
    board = out / "leaderboard"
    main(
        [
            "leaderboard",
            str(results),
            "--output",
            str(board),
            "--title",
            "xllm-harness demo (tiny models, samples)",
        ]
    )
    print(
        f"\ndemo finished in {time.perf_counter() - start:.0f}s; open {board / 'leaderboard.html'}",
        file=sys.stderr,
    )
    return board
