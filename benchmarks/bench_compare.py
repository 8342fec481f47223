"""``xllm compare`` against sacrebleu's paired bootstrap on the same data: time ratio and p-values side by side.

Two systems × 12 FLORES-101 devtest directions (1012 segments each), laid out as lm-eval ``--log_samples``
folders. System A drops every 6th word of the reference on even lines, system B on odd lines (close
systems, so p-values are not all at their floor). COMET segment statistics are "already computed":
written into ``xllm_scores_*.json`` as ``xllm score`` records them (synthetic values: no COMET model
runs here). sacrebleu's side is its Python API (the code behind ``sacrebleu --paired-bs``, whose JSON
output crashes under numpy 2) called in this process, so its time has no process start-up. spBLEU uses
a test SentencePiece model in a private ``$SACREBLEU`` unless the real FLORES-101 model is provisioned
(``--sacrebleu-home``).

    XLLM_SHARED_DATA=/work/shared/data python benchmarks/bench_compare.py [--resamples 1000]
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

import numpy as np

from xllm_harness.testing.lm_eval_files import STAMP, write_samples

CODES = {"ar": "ara", "el": "ell", "hi": "hin", "tr": "tur", "vi": "vie", "zh": "zho_simpl", "en": "eng"}
DIRECTIONS = [d for x in ("ar", "el", "hi", "tr", "vi", "zh") for d in (f"en-{x}", f"{x}-en")]


def lines(data: Path, code: str) -> list[str]:
    return (
        (data / "flores101" / "devtest" / f"{CODES[code]}.devtest").read_text(encoding="utf-8").splitlines()
    )


def degrade(text: str, drop: bool) -> str:
    return (
        " ".join(w for i, w in enumerate(text.split()) if not drop or (i + 1) % 6) if text.split() else text
    )


def write_system(folder: Path, data: Path, parity: int, rng: np.random.Generator) -> dict[str, list[str]]:
    folder.mkdir(parents=True)
    scores: dict = {"results": {}, "signatures": {}, "samples_files": {}, "doc_ids": {}, "statistics": {}}
    hyps_by_task = {}
    for direction in DIRECTIONS:
        src, tgt = direction.split("-")
        task = f"flores_xllm_{direction}"
        sources, targets = lines(data, src), lines(data, tgt)
        hyps = [degrade(t, i % 2 == parity) for i, t in enumerate(targets)]
        docs = [
            {"id": i, "src_lang": src, "tgt_lang": tgt, "source": s, "target": t, "metrics": "spbleu,chrf"}
            for i, (s, t) in enumerate(zip(sources, targets, strict=True))
        ]
        path = write_samples(folder, task, docs, hyps, STAMP)
        comet = rng.uniform(60, 90, len(hyps)) + (1.0 if parity else 0.0)
        scores["results"][task] = {"comet": float(comet.mean())}
        scores["signatures"][task] = {
            "comet": "model:Unbabel/wmt22-comet-da|nrefs:1|precision:fp16|scale:100"
        }
        scores["samples_files"][task] = str(path)
        scores["doc_ids"][task] = list(range(len(hyps)))
        scores["statistics"][task] = {"comet": [[float(v)] for v in comet]}
        hyps_by_task[task] = hyps
    (folder / f"xllm_scores_{STAMP}.json").write_text(json.dumps(scores), encoding="utf-8")
    (folder / f"results_{STAMP}.json").write_text(json.dumps({"results": {}, "model_name": folder.name}))
    return hyps_by_task


def sacrebleu_paired(ref: list[str], a: list[str], b: list[str], n: int) -> dict:
    """p-values of sacrebleu's own paired bootstrap, A the baseline: its Python API, the code behind
    ``sacrebleu --paired-bs`` (the CLI itself cannot write its JSON under numpy 2)."""
    from sacrebleu.metrics import BLEU, CHRF
    from sacrebleu.significance import PairedTest

    metrics = {"spbleu": BLEU(tokenize="flores101"), "chrf": CHRF(word_order=2)}
    _, scores = PairedTest([("a", a), ("b", b)], metrics, [ref], test_type="bs", n_samples=n)()
    bleu, chrf = (v for k, v in scores.items() if k != "System")  # in the order of `metrics`
    return {"spbleu": bleu[1].p_value, "chrf": chrf[1].p_value}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("XLLM_SHARED_DATA", "/work/shared/data"))
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--sacrebleu-home", default=None, help="a $SACREBLEU with the real FLORES-101 model")
    args = parser.parse_args()
    data = Path(args.data)
    work = Path(tempfile.mkdtemp(prefix="bench_compare_"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SACREBLEU_SEED": "12345"}
    if "sacrebleu" in sys.modules:
        sys.exit("bench_compare: sacrebleu was imported before $SACREBLEU was set (it reads it on import)")
    if args.sacrebleu_home:
        env["SACREBLEU"] = args.sacrebleu_home
    else:
        from xllm_harness.data.samples import tokenizer_corpus
        from xllm_harness.testing.tiny_metric_models import SPM_NAME, build_test_spm

        build_test_spm(work / "sacrebleu" / "models" / SPM_NAME, tokenizer_corpus())
        env["SACREBLEU"] = str(work / "sacrebleu")
        print("spBLEU: test SentencePiece model (not FLORES-101's): p-values comparable, scores not spBLEU")
    os.environ.update(SACREBLEU=env["SACREBLEU"], SACREBLEU_SEED=env["SACREBLEU_SEED"])  # for its API here
    rng = np.random.default_rng(0)
    hyps_a = write_system(work / "a", data, 0, rng)
    hyps_b = write_system(work / "b", data, 1, rng)

    cli = [sys.executable, "-m", "xllm_harness.cli"]
    ours_s = {}
    for mode in ("cold", "warm"):
        if mode == "warm":  # spBLEU/chrF++ statistics recorded by `xllm score`, as COMET's already are
            start = time.perf_counter()
            for side in ("a", "b"):
                subprocess.run([*cli, "score", str(work / side), "--metrics", "spbleu,chrf"], env=env, check=True,
                               capture_output=True)  # fmt: skip
            score_s = time.perf_counter() - start
        for old in (work / "a").glob("compare_*.json"):
            old.unlink()
        start = time.perf_counter()
        done = subprocess.run(
            [*cli, "compare", str(work / "a"), str(work / "b"), "--resamples", str(args.resamples),
             "--metrics", "spbleu,chrf,comet"],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        ours_s[mode] = time.perf_counter() - start
        if done.returncode:
            sys.exit(done.stderr)
    (report,) = (work / "a").glob("compare_*.json")
    rows = {
        (c["task"], c["metric"]): c for c in json.loads(report.read_text(encoding="utf-8"))["comparisons"]
    }

    start = time.perf_counter()
    theirs = {}
    for direction in DIRECTIONS:
        task = f"flores_xllm_{direction}"
        ref = lines(data, direction.split("-")[1])
        theirs[task] = sacrebleu_paired(ref, hyps_a[task], hyps_b[task], args.resamples)
    sacrebleu_s = time.perf_counter() - start

    print(f"{'task':20s} {'metric':7s} {'delta':>8s} {'p ours':>8s} {'p sacrebleu':>11s}")
    for (task, metric), row in rows.items():
        other = theirs[task].get(metric)
        print(
            f"{task:20s} {metric:7s} {row['delta']:8.3f} {row['p']:8.4f} "
            f"{'' if other is None else format(other, '11.4f')}"
        )
    print(
        f"\nxllm compare, 12 directions x (spbleu, chrf, comet), {args.resamples} resamples, whole CLI:\n"
        f"  cold (spBLEU/chrF++ statistics extracted from the samples): {ours_s['cold']:.2f} s\n"
        f"  warm (statistics recorded by `xllm score`, {score_s:.1f} s for both systems): {ours_s['warm']:.2f} s"
    )
    print(
        f"sacrebleu's paired bootstrap (Python API, in this process: no start-up), 12 directions x "
        f"(spbleu, chrf), {args.resamples} resamples: {sacrebleu_s:.2f} s"
    )
    print(
        f"ratio sacrebleu / xllm compare: cold {sacrebleu_s / ours_s['cold']:.1f}x, "
        f"warm {sacrebleu_s / ours_s['warm']:.1f}x"
    )


if __name__ == "__main__":
    main()
