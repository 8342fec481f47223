"""Regenerate the figures of docs/analyzers/ with the analyzers themselves.

    python docs/analyzers/examples/make_figures.py --flores /path/to/data   # folder holding flores101/

Scaling law and allocator: synthetic points (``points.csv`` here, written by this script from the
laws below plus noise; NOT the paper's measurements). Similarity and alignment: a tiny *random*
Llama built by ``xllm_harness.models.tiny_llama`` on real FLORES-101 dev sentences: the figures show what
the tools produce, not findings about any real model.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from xllm_harness.analysis.scaling import PowerLaw
from xllm_harness.cli import main
from xllm_harness.data.samples import tokenizer_corpus
from xllm_harness.models.tiny_llama import build_tiny_llama

HERE = Path(__file__).resolve().parent
IMG = HERE.parent / "img"
SYNTHETIC = {  # language: (alpha, beta, gamma), chosen to give COMET-like scores between 70 and 90
    "ar": (95.0, -0.150, 0.50),
    "el": (80.0, -0.140, 0.60),
    "hi": (150.0, -0.175, 0.40),
    "tr": (125.0, -0.165, 0.45),
    "vi": (85.0, -0.150, 0.60),
    "zh": (78.0, -0.140, 0.62),
}
SIZES = [1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6]


def write_points(path: Path) -> None:
    rng = np.random.default_rng(7)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["language", "data_size", "score", "metric"])
        for lang, params in SYNTHETIC.items():
            law = PowerLaw(*params)
            for x in SIZES:
                score = round(float(law.score(x)) + rng.normal(0, 0.3), 2)
                writer.writerow([lang, int(x), score, "synthetic COMET"])


def run(argv: list[str]) -> None:
    print("$ xllm", " ".join(argv))
    if main(argv) != 0:
        raise SystemExit(f"failed: {argv}")


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flores", required=True, help="data folder holding flores101/{dev,devtest}")
    args = parser.parse_args()
    IMG.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="xllm_docs_"))
    os.chdir(HERE)  # relative names in the example outputs committed here
    points = Path("points.csv")
    flores = str(Path(args.flores).resolve())
    write_points(points)
    gammas = ",".join(f"{lang}={g}" for lang, (_, _, g) in SYNTHETIC.items())
    run(
        [
            "analyze",
            "scaling_law",
            "--points",
            str(points),
            "--gamma",
            gammas,
            "--target",
            "hi=85",
            "-o",
            str(work / "sl"),
        ]
    )
    shutil.copy(work / "sl" / "laws.json", "laws.json")
    run(
        [
            "analyze",
            "allocator",
            "--laws",
            "laws.json",
            "--budget",
            "300k",
            "--budget",
            "1.2M",
            "-o",
            str(work / "al"),
        ]
    )
    shutil.copy(work / "al" / "allocation_1200000.json", "allocation_1200000.json")
    model = build_tiny_llama(work / "tiny-random-llama", tokenizer_corpus())
    common = ["--model", str(model), "--data-dir", flores, "--sentences", "100", "--device", "cpu"]
    run(["analyze", "similarity", *common, "-o", str(work / "sim")])
    run(["analyze", "alignment", *common, "-o", str(work / "ali")])
    for src, dst in [
        (work / "sl" / "scaling_law.png", "scaling_law.png"),
        (work / "al" / "allocator.png", "allocator.png"),
        (work / "sim" / "similarity.png", "similarity.png"),
        (work / "ali" / "alignment_layers.png", "alignment_layers.png"),
        (work / "ali" / "alignment_pca.png", "alignment_pca.png"),
    ]:
        shutil.copy(src, IMG / dst)
    print(f"figures in {IMG}; work files in {work}")


if __name__ == "__main__":
    main_()
