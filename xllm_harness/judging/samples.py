"""Reading lm-eval ``--log_samples`` output folders (``samples_<task>_<date>.jsonl``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def sample_files(folder: str | Path) -> dict[str, Path]:
    """The newest samples file of each task under ``folder`` (searched recursively)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder}: not a folder (expected an lm-eval --output_path with --log_samples)"
        )
    newest: dict[str, Path] = {}
    for path in sorted(folder.rglob("samples_*.jsonl")):
        stem = path.name[len("samples_") : -len(".jsonl")]
        task, _, date = stem.rpartition("_")
        if not task:
            continue
        if task not in newest or date > newest[task].name.rpartition("_")[2]:
            newest[task] = path
    if not newest:
        raise FileNotFoundError(
            f"{folder}: no samples_<task>_<date>.jsonl files; run lm_eval / xllm eval with --log_samples"
        )
    return newest


def read_samples(path: Path) -> list[dict[str, Any]]:
    """The sample lines of one file, ordered by ``doc_id``."""
    lines = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                record["doc"], record["doc_id"]
            except (ValueError, KeyError) as err:
                raise ValueError(f"{path}:{number}: not an lm-eval sample line ({err})") from None
            lines.append(record)
    return sorted(lines, key=lambda r: r["doc_id"])


def response(record: dict[str, Any]) -> str:
    """The model's (filtered) generation of one sample line."""
    filtered = record.get("filtered_resps")
    if filtered:
        first = filtered[0]
        return first if isinstance(first, str) else str(first[0])
    resps = record.get("resps") or [[""]]
    return str(resps[0][0]) if resps[0] else ""


def model_name(folder: str | Path) -> str:
    """The model name lm-eval recorded in the newest ``results_*.json`` under ``folder``, else its name."""
    results = sorted(Path(folder).rglob("results_*.json"))
    for path in reversed(results):
        try:
            name = json.loads(path.read_text(encoding="utf-8")).get("model_name")
        except ValueError:
            continue
        if name:
            return str(name)
    return Path(folder).resolve().name
