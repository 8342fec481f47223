"""Small real samples bundled for the demo and the always-on tests (see README.md here).

The folder mirrors the data-directory layout, so ``XLLM_DATA_DIR=<this folder>`` makes the tasks read
the samples instead of the full datasets.
"""

from __future__ import annotations

import json
from pathlib import Path

SAMPLES_DIR = Path(__file__).parent


def tokenizer_corpus() -> list[str]:
    """Every text in the samples (for training a tiny tokenizer that covers all scripts)."""
    texts: list[str] = []
    for path in sorted((SAMPLES_DIR / "xquad").glob("*.json")):
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            for paragraph in article["paragraphs"]:
                texts.append(paragraph["context"])
                texts.extend(qa["question"] for qa in paragraph["qas"])
    for path in sorted((SAMPLES_DIR / "alpaca").glob("*.json")):
        for record in json.loads(path.read_text(encoding="utf-8")):
            texts.extend([record["instruction"], record["input"], record["output"]])
    for path in sorted(SAMPLES_DIR.glob("flores101/*/*")) + sorted(SAMPLES_DIR.glob("parallel/*")):
        texts.extend(path.read_text(encoding="utf-8").splitlines())
    return [t for t in texts if t]
