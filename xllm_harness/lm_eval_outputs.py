"""Reading lm-eval output folders: ``results_<date>.json`` and ``samples_<task>_<date>.jsonl``.

Shared by ``xllm score``, ``xllm judge`` and ``xllm leaderboard``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from xllm_harness.jsonio import read_jsonl

SAMPLES_RE = re.compile(r"^samples_(?P<task>.+)_(?P<ts>\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.jsonl$")
RESULTS_RE = re.compile(r"^results_(?P<ts>\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.json$")


def sample_files(folder: str | Path, recursive: bool = True) -> dict[str, Path]:
    """The newest samples file of each task under ``folder`` (by lm-eval's timestamp in the name)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder}: not a folder (expected an lm-eval --output_path with --log_samples)"
        )
    newest: dict[str, tuple[str, Path]] = {}
    for path in sorted(folder.rglob("samples_*.jsonl") if recursive else folder.glob("samples_*.jsonl")):
        match = SAMPLES_RE.match(path.name)
        if match and (match["task"] not in newest or match["ts"] > newest[match["task"]][0]):
            newest[match["task"]] = (match["ts"], path)
    if not newest:
        raise FileNotFoundError(
            f"{folder}: no samples_<task>_<date>.jsonl files; run lm_eval / xllm eval with --log_samples"
        )
    return {task: path for task, (_, path) in newest.items()}


def sample_timestamp(path: Path) -> str:
    """lm-eval's timestamp in a samples file name (``""`` if the name is not lm-eval's)."""
    match = SAMPLES_RE.match(Path(path).name)
    return match["ts"] if match else ""


def read_sample_lines(path: Path) -> list[dict[str, Any]]:
    """The sample lines of one file (each with ``doc`` and ``doc_id``), ordered by ``doc_id``."""
    lines = []
    for number, record in read_jsonl(path):
        try:
            record["doc"], record["doc_id"]
        except (TypeError, KeyError) as err:
            raise ValueError(
                f"{path}:{number}: not an lm-eval --log_samples line ({type(err).__name__}: {err}); "
                "expected JSON with 'doc', 'doc_id' and 'filtered_resps'"
            ) from None
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


def recorded_model_name(folder: str | Path) -> str:
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
