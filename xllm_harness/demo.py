"""The built-in demo: the paper's pipeline end to end on a tiny model, offline, in about a CPU-minute.

1. build a tiny Llama (tokenizer trained on the bundled samples) — the *untrained twin*;
2. CoIT-train a copy with ``xllm train`` on bundled Alpaca (en, zh) + English→X translation data;
3. evaluate both through lm-eval (``xllm eval``) on the QA and FLORES tasks over the bundled samples;
4. write the leaderboard (Markdown, CSV, HTML), then say what moved and what did not, and why.

Each step runs as its own ``xllm`` process whose output goes to ``<out>/logs/`` (``-v`` shows it),
so the demo's own output fits on one screen. Scores of a tiny model on samples say nothing about
the paper: the demo shows the machinery.
"""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
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
DEFAULT_LIMIT = 8
DEFAULT_STEPS = 60
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Set to 1 for every step (unless already set): a model this small gains nothing from two threads, and
two threads per process on a busy 2-core machine spin against each other (a training step took 7x
longer; benchmarks/bench_demo.py). The two evaluations run side by side instead, one per core."""
QA_ZERO = 0.05
"""Mean QA scores below this are "about zero"."""
REAL_MODEL_COMMANDS = (
    "xllm data fetch xquad mlqa flores101",
    "xllm eval --model hf --model_args pretrained=MODEL,dtype=bfloat16 --tasks xquad_xllm,mlqa_xllm,flores_xllm \\\n"
    "      --batch_size auto --output_path results/ --log_samples --use_cache cache/MODEL",
    "xllm leaderboard results/ -o board/",
)


@dataclass(frozen=True)
class DemoResult:
    """What a demo run made: the leaderboard page, the closing summary and the time it took."""

    page: Path
    """The leaderboard's HTML page (absolute)."""
    summary: str
    """What moved and what did not, and the commands that evaluate a real model."""
    seconds: float


@dataclass(frozen=True)
class Scores:
    """Mean scores of one model over the demo's tasks."""

    chrf: float | None
    qa_match: float | None
    qa_f1: float | None


class Stages:
    """One line per stage on stderr, ``[n/total] what ... 12.3 s``, and each stage's time for the end."""

    def __init__(self, total: int, verbose: bool) -> None:
        self.total, self.verbose = total, verbose
        self.times: dict[str, float] = {}
        self._open: tuple[str, float] | None = None

    def start(self, name: str, text: str) -> None:
        self.finish()
        n = len(self.times) + 1
        end = "\n" if self.verbose else " ... "
        print(f"[{n}/{self.total}] {text}", end=end, file=sys.stderr, flush=True)
        self._open = (name, time.perf_counter())

    def finish(self) -> None:
        if self._open is None:
            return
        name, started = self._open
        self.times[name] = time.perf_counter() - started
        prefix = f"[{len(self.times)}/{self.total}] {name}: " if self.verbose else ""
        print(f"{prefix}{self.times[name]:.1f} s", file=sys.stderr, flush=True)
        self._open = None


def _xllm(args: list[str], log: Path, verbose: bool) -> None:
    """Run one ``xllm`` command in its own process; its output goes to ``log`` (progress bars as
    lines), or to the screen with ``verbose``."""
    from xllm_harness.console import ProgressLines

    command = [sys.executable, "-m", "xllm_harness.cli", *args]
    if verbose:
        code = subprocess.run(command, check=False).returncode
    else:
        log.parent.mkdir(parents=True, exist_ok=True)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        with open(log, "w", encoding="utf-8") as fh:
            lines = ProgressLines(fh)
            env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # the log follows the step as it runs
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
            assert proc.stdout is not None
            while chunk := proc.stdout.read1(1 << 16):
                lines.write(decoder.decode(chunk))
            lines.write(decoder.decode(b"", final=True) + "\n")
            code = proc.wait()
    if code != 0:
        if not verbose:
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
            print("\n" + "\n".join(tail), file=sys.stderr)
        raise XllmError(f"demo: `xllm {args[0]}` failed (exit {code}); its output is in {log}")


def _configure_environment() -> None:
    from xllm_harness.data.samples import SAMPLES_DIR
    from xllm_harness.models.metric_models import spm_model_path

    for threads in THREAD_VARIABLES:  # tiny models: one thread per process (see THREAD_VARIABLES)
        os.environ.setdefault(threads, "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ["XLLM_DATA_DIR"] = str(SAMPLES_DIR)
    if spm_model_path().is_file():
        os.environ.setdefault("XLLM_FLORES_METRICS", "spbleu,chrf")
    else:  # offline without sacrebleu's FLORES-101 SentencePiece model: chrF++ only, said out loud
        print(
            "note: FLORES is scored with chrF++ only (spBLEU's SentencePiece model is not installed: "
            "docs/offline-models.md)",
            file=sys.stderr,
        )
        os.environ.setdefault("XLLM_FLORES_METRICS", "chrf")


def training_losses(model_dir: Path) -> list[float]:
    """The loss of every optimizer step, from the trainer's ``train_log.jsonl``."""
    from xllm_harness.results.jsonio import read_jsonl

    records = read_jsonl(model_dir / "train_log.jsonl")
    return [float(r["loss"]) for _, r in records if isinstance(r, dict) and "loss" in r and "step" in r]


def mean_scores(results_dir: Path) -> Scores:
    """Mean chrF++ over the FLORES tasks and mean match/F1 over the QA tasks of one model's results."""
    from xllm_harness.results.lm_eval import metric_value, newest_results, read_results

    per_task = read_results(newest_results(results_dir))["results"]

    def mean(tasks: list[str], metric: str) -> float | None:
        values = [metric_value(per_task[t], metric) for t in tasks if t in per_task]
        values = [v for v in values if v is not None]
        return sum(values) / len(values) if values else None

    return Scores(mean(FLORES_TASKS, "chrf"), mean(QA_TASKS, "match"), mean(QA_TASKS, "f1"))


def _number(value: float | None, digits: int) -> str:
    return "missing" if value is None else f"{value:.{digits}f}"


def summary(losses: list[float], before: Scores, after: Scores, out: Path, steps: int) -> str:
    """What the demo shows, in a few lines: what moved, what did not and why, and what to run next."""
    loss = f"{losses[0]:.2f} -> {losses[-1]:.2f} over {len(losses)} steps" if losses else "not logged"
    qa = [v for v in (after.qa_match, after.qa_f1, before.qa_match, before.qa_f1) if v is not None]
    qa_zero = bool(qa) and max(qa) < QA_ZERO
    lines = [
        "",
        "What moved (tiny models on bundled samples: the numbers say nothing about the paper)",
        f"  training loss (CoIT)                {loss}",
        f"  FLORES chrF++, mean of {len(FLORES_TASKS)} tasks      "
        f"untrained {_number(before.chrf, 1):>7}   trained {_number(after.chrf, 1):>7}",
        f"  XQuAD match / F1, mean of {len(QA_TASKS)} tasks   "
        f"untrained {_number(before.qa_match, 2)} / {_number(before.qa_f1, 2)}   "
        f"trained {_number(after.qa_match, 2)} / {_number(after.qa_f1, 2)}",
    ]
    if qa_zero:
        lines += [
            "QA stays at about 0, as it should: a model with random weights and a few hundred thousand",
            f"parameters, trained for {steps} steps on ~1,400 short examples, learns what the target",
            "language looks like (chrF++ rewards shared character n-grams) but not to read a passage and",
            "answer a question about it. QA needs a real model.",
        ]
    lines += [
        "",
        f"leaderboard: {out / 'leaderboard' / 'leaderboard.md'} (also .csv and .html); logs: {out / 'logs'}",
        "Evaluate a real model:",
        *(f"  {command}" for command in REAL_MODEL_COMMANDS),
    ]
    return "\n".join(lines)


def _eval_args(model: Path, tasks: list[str], limit: int, max_gen_toks: int, results: Path) -> list[str]:
    return [
        "eval", "--model", "hf", "--model_args", f"pretrained={model},dtype=float32", "--device", "cpu",
        "--tasks", ",".join(tasks), "--limit", str(limit), "--gen_kwargs", f"max_gen_toks={max_gen_toks}",
        "--output_path", str(results / model.name), "--log_samples",
    ]  # fmt: skip


def _in_parallel(jobs: list[tuple[list[str], Path]], verbose: bool) -> None:
    """Run ``xllm`` commands side by side (one per core; one after the other with ``verbose``, whose
    output would interleave); the first failure is raised after all have ended."""
    if verbose:
        for args, log in jobs:
            _xllm(args, log, verbose)
        return
    errors: list[BaseException] = []

    def run(args: list[str], log: Path) -> None:
        try:
            _xllm(args, log, verbose)
        except BaseException as err:  # re-raised in the calling thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def run_demo(
    out: Path,
    *,
    limit: int = DEFAULT_LIMIT,
    max_steps: int = DEFAULT_STEPS,
    max_gen_toks: int = 24,
    verbose: bool = False,
) -> DemoResult:
    """Run the demo into ``out`` (each stage's line on stderr); returns its page and summary."""
    from transformers.utils import logging as hf_logging

    from xllm_harness.data.samples import tokenizer_corpus
    from xllm_harness.models.tiny_llama import build_tiny_llama

    _configure_environment()
    hf_logging.disable_progress_bar()  # the tiny model's save: no progress bar between the stage lines
    out.mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    start = time.perf_counter()
    stages = Stages(4, verbose)

    stages.start("build", "building a tiny Llama (random weights, tokenizer trained on the bundled samples)")
    base = build_tiny_llama(
        out / "tiny-untrained", tokenizer_corpus(), hidden_size=96, layers=2, vocab_size=1024
    )

    stages.start("train", f"CoIT training a copy with `xllm train` on {TRAIN_SPEC} (bundled samples)")
    tuned = out / "tiny-coit"
    _xllm(
        [
            "train", "--model", str(base), "--output-dir", str(tuned), "--data", TRAIN_SPEC,
            "--max-steps", str(max_steps), "--learning-rate", "3e-3", "--effective-batch", "16",
            "--micro-batch", "8", "--max-length", "256", "--save-every", "0", "--resume", "never",
        ],
        logs / "train.log",
        verbose,
    )  # fmt: skip

    tasks = QA_TASKS + FLORES_TASKS
    stages.start("eval", f"evaluating both models with `xllm eval` on {len(tasks)} tasks (limit {limit})")
    results = out / "results"
    _in_parallel(
        [
            (_eval_args(m, tasks, limit, max_gen_toks, results), logs / f"eval-{m.name}.log")
            for m in (base, tuned)
        ],
        verbose,
    )

    stages.start("leaderboard", "leaderboard")
    board = out / "leaderboard"
    title = "xllm-harness demo (tiny models, samples)"
    _xllm(
        ["leaderboard", str(results), "--output", str(board), "--title", title],
        logs / "leaderboard.log",
        verbose,
    )
    stages.finish()

    before, after = mean_scores(results / base.name), mean_scores(results / tuned.name)
    return DemoResult(
        page=(board / "leaderboard.html").resolve(),
        summary=summary(training_losses(tuned), before, after, out, max_steps),
        seconds=time.perf_counter() - start,
    )
