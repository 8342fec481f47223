"""lm-eval output files written as ``lm_eval --log_samples`` writes them, for tests and benchmarks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

STAMP = "2026-01-01T00-00-00.000000"
"""A timestamp in lm-eval's file-name format."""


def sample_line(
    doc_id: int, doc: dict[str, Any], output: str, target: Any = "", **extra: Any
) -> dict[str, Any]:
    """One ``samples_<task>_<ts>.jsonl`` line: the document, the raw and filtered response, the target."""
    return {
        "doc_id": doc_id,
        "doc": doc,
        "target": target,
        "resps": [[output]],
        "filtered_resps": [output],
        "filter": "none",
        **extra,
    }


def write_samples(
    folder: Path,
    task: str,
    docs: Sequence[dict[str, Any]],
    outputs: Sequence[str],
    stamp: str = STAMP,
    line: Any = None,
) -> Path:
    """``folder/samples_<task>_<stamp>.jsonl`` with one line per document (``line(i, doc, output)``
    builds a line when given, else :func:`sample_line` with the document's ``target`` if it has one)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"samples_{task}_{stamp}.jsonl"
    make = line or (lambda i, doc, out: sample_line(i, doc, out, doc.get("target", "")))
    rows = [make(i, doc, out) for i, (doc, out) in enumerate(zip(docs, outputs, strict=True))]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path
