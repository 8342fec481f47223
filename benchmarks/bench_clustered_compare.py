"""Cost of resampling paragraphs: ``xllm compare`` with and without clusters on the same two systems.

Two systems × 12 FLORES-101 devtest directions (1012 segments; spBLEU, chrF++, off_target from the
samples) and 7 XQuAD languages (1190 questions in 240 paragraphs; match, exact_match, F1,
off_target), 1000 resamples, in process. FLORES has no clusters, so only the XQuAD rows change: the
clustered run resamples 240 paragraphs per question set instead of 1190 items. Printed: the best of
``--repeats`` runs of each mode and their ratio (the issue's bound: clustered < 2x item-level).
A test SentencePiece model stands in for FLORES-101's (spBLEU's cost, not its value, matters here).

    XLLM_SHARED_DATA=/work/shared/data .venv/bin/python benchmarks/bench_clustered_compare.py
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import zlib
from pathlib import Path

from xllm_harness.testing.lm_eval_files import STAMP, write_samples
from xllm_harness.testing.qa_runs import write_qa_run

CODES = {"ar": "ara", "el": "ell", "hi": "hin", "tr": "tur", "vi": "vie", "zh": "zho_simpl", "en": "eng"}
DIRECTIONS = [d for x in ("ar", "el", "hi", "tr", "vi", "zh") for d in (f"en-{x}", f"{x}-en")]
QA_LANGS = ("ar", "el", "en", "hi", "tr", "vi", "zh")


def flores(data: Path, code: str) -> list[str]:
    return (
        (data / "flores101" / "devtest" / f"{CODES[code]}.devtest").read_text(encoding="utf-8").splitlines()
    )


def write_system(folder: Path, data: Path, keep_every: int, qa_share: int) -> None:
    """FLORES outputs: the reference with every ``keep_every``-th word dropped; XQuAD: right on
    ``qa_share`` in 10 questions (a hash of the id)."""
    for direction in DIRECTIONS:
        src, tgt = direction.split("-")
        sources, targets = flores(data, src), flores(data, tgt)
        docs = [
            {"id": i, "src_lang": src, "tgt_lang": tgt, "source": s, "target": t, "metrics": "spbleu,chrf"}
            for i, (s, t) in enumerate(zip(sources, targets, strict=True))
        ]
        hyps = [" ".join(w for i, w in enumerate(t.split()) if (i + 1) % keep_every) or t for t in targets]
        write_samples(folder, f"flores_xllm_{direction}", docs, hyps, STAMP)
    write_qa_run(
        folder, data, QA_LANGS, lambda lang, i, doc: zlib.crc32(f"{lang}{doc['id']}".encode()) % 10 < qa_share
    )


def interleaved(runs: dict[str, object], repeats: int) -> tuple[dict[str, float], dict[str, list]]:
    """Best wall time of each run over ``repeats`` rounds, the runs alternating within each round
    (a loaded machine slows both alike)."""
    best = dict.fromkeys(runs, float("inf"))
    rows: dict[str, list] = {}
    for _ in range(repeats):
        for name, run in runs.items():
            started = time.perf_counter()
            rows[name] = run()
            best[name] = min(best[name], time.perf_counter() - started)
    return best, rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = Path(os.environ.get("XLLM_SHARED_DATA", "/work/shared/data"))
    work = Path(tempfile.mkdtemp(prefix="bench_clustered_"))
    from xllm_harness.data.samples import tokenizer_corpus
    from xllm_harness.testing.tiny_metric_models import SPM_NAME, build_test_spm

    build_test_spm(work / "sacrebleu" / "models" / SPM_NAME, tokenizer_corpus())
    os.environ["SACREBLEU"] = str(work / "sacrebleu")
    os.environ["XLLM_DATA_DIR"] = str(data)
    write_system(work / "a" / "m", data, keep_every=3, qa_share=5)
    write_system(work / "b" / "m", data, keep_every=5, qa_share=6)

    from xllm_harness.analysis.compare import compare

    def run(clusters: bool):
        return lambda: compare(work / "a", work / "b", n_resamples=args.resamples, clusters=clusters)

    compare(work / "a", work / "b", n_resamples=10)  # warm-up: imports, language identifier, tokenizer
    best, found = interleaved({"items": run(False), "clustered": run(True)}, args.repeats)
    items, clustered, flat, rows = best["items"], best["clustered"], found["items"], found["clustered"]
    qa = [r for r in rows if r.task.startswith("xquad")]
    print(f"{len(rows)} comparisons ({len(qa)} XQuAD), {args.resamples} resamples, best of {args.repeats}")
    print(f"item-level compare: {items:.2f} s")
    print(f"clustered compare:  {clustered:.2f} s")
    print(f"ratio clustered / item-level: {clustered / items:.2f}x (bound: < 2x)")
    widths = {(r.task, r.metric): r.comparison.ci[1] - r.comparison.ci[0] for r in flat}
    ratios = [
        (r.comparison.ci[1] - r.comparison.ci[0]) / widths[(r.task, r.metric)]
        for r in qa
        if r.metric == "match"
    ]
    print(f"XQuAD match: clustered / item-level interval width {min(ratios):.2f}-{max(ratios):.2f}")


if __name__ == "__main__":
    main()
