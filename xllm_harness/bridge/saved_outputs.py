"""Did lm-eval save what it computed? Its tracker only logs a warning when writing fails.

lm-eval writes ``results_<date>.json`` (or ``<stem>_<date>.json`` for an ``--output_path`` ending in
``.json``) and, with ``--log_samples``, one ``samples_<task>_<date>.jsonl`` per task beside it. A run
that ends without a new results file, or with a samples file missing or shorter than the results
file's ``n-samples`` for its task, lost generations: :func:`check_saved` names the path.
"""

from __future__ import annotations

import json
from pathlib import Path

from xllm_harness.errors import XllmError


class NotSavedError(XllmError):
    """lm-eval finished but could not write its results or samples."""


def output_folder(output_path: str | Path) -> Path:
    """The folder lm-eval writes under for ``--output_path`` (a ``.json`` path: its folder)."""
    path = Path(output_path)
    return path.parent if path.suffix == ".json" else path


def saved_files(output_path: str | Path) -> set[Path]:
    """Every results and samples file now under the output folder (taken before and after a run)."""
    folder = output_folder(output_path)
    if not folder.is_dir():
        return set()
    return {p for p in folder.rglob("*.json*") if p.suffix in (".json", ".jsonl") and p.is_file()}


def _count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())


def check_saved(output_path: str | Path, log_samples: bool, before: set[Path]) -> Path:
    """The results file this run wrote; raises :class:`NotSavedError` naming the path when the results
    file or (with ``log_samples``) a task's samples file is missing or short."""
    path = Path(output_path)
    prefix = f"{path.stem}_" if path.suffix == ".json" else "results_"
    new = sorted(saved_files(output_path) - before)
    results = [p for p in new if p.suffix == ".json" and p.name.startswith(prefix)]
    lost = "its generations are lost unless --use_cache was given (then a rerun only rescores)"
    if not results:
        raise NotSavedError(
            f"lm-eval could not save its results under --output_path {output_folder(output_path)} "
            f"(see its warning above); {lost}. Free space or fix the folder and rerun"
        )
    newest = results[-1]
    if not log_samples:
        return newest
    date = newest.stem[len(prefix) :]
    try:
        counts = json.loads(newest.read_text(encoding="utf-8")).get("n-samples", {})
    except (OSError, ValueError, AttributeError):
        counts = {}
    if not isinstance(counts, dict) or not counts:
        raise NotSavedError(f"lm-eval's results file {newest} records no n-samples; {lost}")
    folder = path.parent if path.suffix == ".json" else newest.parent
    for task, n in sorted(counts.items()):
        expected = n.get("effective") if isinstance(n, dict) else None
        samples = folder / f"samples_{task}_{date}.jsonl"
        if not samples.is_file():
            raise NotSavedError(
                f"lm-eval could not save the samples of {task} to {samples} (see its warning above); {lost}"
            )
        if isinstance(expected, int) and _count_lines(samples) < expected:
            raise NotSavedError(
                f"lm-eval saved {_count_lines(samples)} of the {expected} samples of {task} in {samples}; {lost}"
            )
    return newest
