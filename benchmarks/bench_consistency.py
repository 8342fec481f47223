"""Speed of cross-lingual consistency: 11 languages × 1190 XQuAD questions.

Two measurements, 1000 resamples for kappa's interval:

1. ``xllm consistency`` end to end (in process) on a scripted run of the 7 XQuAD languages this
   project registers (samples read, ``match`` scored per item, 6 pairs with English);
2. the statistics for 11 languages (XQuAD's 11: 10 pairs with English) from per-item outcomes keyed
   by the real question ids and clustered by the real English paragraphs.

The issue's bound: under 2 s for 11 languages × 1190 items.

    XLLM_SHARED_DATA=/work/shared/data .venv/bin/python benchmarks/bench_consistency.py
"""

from __future__ import annotations

import os
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from xllm_harness.analysis.clusters import cluster_map
from xllm_harness.analysis.consistency import Outcomes, consistency, pair_consistency
from xllm_harness.testing.qa_runs import write_qa_run, xquad_docs

LANGS = ("ar", "el", "en", "hi", "tr", "vi", "zh")
ELEVEN = ("ar", "de", "el", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")


def main() -> None:
    data = Path(os.environ.get("XLLM_SHARED_DATA", "/work/shared/data"))
    work = Path(tempfile.mkdtemp(prefix="bench_consistency_"))
    write_qa_run(
        work / "m", data, LANGS, lambda lang, i, doc: zlib.crc32(f"{lang}{doc['id']}".encode()) % 3 > 0
    )
    consistency([work], n_resamples=10)  # warm-up: imports, registry
    started = time.perf_counter()
    results = consistency([work], n_resamples=1000)
    end_to_end = time.perf_counter() - started
    print(f"xllm consistency, {len(LANGS)} languages x 1190 items ({len(results)} pairs): {end_to_end:.2f} s")

    docs = xquad_docs(data, "en")
    ids = [d["id"] for d in docs]
    clusters = cluster_map({d["id"]: d for d in docs})
    rng = np.random.default_rng(0)
    english = Outcomes(
        "en", dict(zip(ids, (rng.random(len(ids)) < 0.7).astype(float).tolist(), strict=True)), clusters
    )
    others = {
        lang: Outcomes(
            lang, dict(zip(ids, (rng.random(len(ids)) < 0.6).astype(float).tolist(), strict=True)), None
        )
        for lang in ELEVEN[:10]
    }
    started = time.perf_counter()
    pairs = [pair_consistency("m", "xquad", lang, "match", english, other) for lang, other in others.items()]
    core = time.perf_counter() - started
    print(
        f"statistics, 11 languages x 1190 items ({len(pairs)} pairs with English): {core:.2f} s (bound: < 2 s)"
    )


if __name__ == "__main__":
    main()
